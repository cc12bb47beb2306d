// Splits an answer into what the answer view renders: plain text, numbered citations ([n] for the n-th
// source), and the spans the evaluation flagged (unsupported by the sources, personal data).

export interface Segment {
  text: string;
  /** 1-based source number when this segment is a citation marker. */
  citation?: number;
  unsupported: boolean;
  /** PII type (e.g. "email") when this text is personal data. */
  pii?: string;
}

export interface Highlights {
  unsupported?: readonly string[];
  pii?: readonly { type: string; text: string }[];
  sourceCount: number;
}

interface Interval {
  start: number;
  end: number;
}

const CITATION = /\[(\d+)\]/g;

/** Where `needle` occurs in `text`: exactly, or else ignoring citation markers and runs of whitespace —
 * the evaluation quotes answer sentences without their "[n]" markers. */
function occurrences(text: string, needle: string): Interval[] {
  const wanted = needle.trim();
  if (!wanted) return [];
  const exact = allIndexes(text, wanted).map((start) => ({ start, end: start + wanted.length }));
  if (exact.length > 0) return exact;
  const loose = normalized(text);
  const target = normalized(wanted).text;
  if (!target) return [];
  return allIndexes(loose.text, target).map((start) => ({
    start: loose.origin[start]!,
    end: loose.origin[start + target.length - 1]! + 1,
  }));
}

function allIndexes(text: string, needle: string): number[] {
  const found: number[] = [];
  for (let from = 0; ; ) {
    const index = text.indexOf(needle, from);
    if (index < 0) return found;
    found.push(index);
    from = index + needle.length;
  }
}

/** `text` without citation markers, whitespace runs collapsed to one space; origin[i] is where the i-th
 * character came from in `text`. */
function normalized(text: string): { text: string; origin: number[] } {
  const out: string[] = [];
  const origin: number[] = [];
  const markers = [...text.matchAll(/\s*\[\d+\]/g)].map((m) => [m.index!, m.index! + m[0].length] as const);
  let marker = 0;
  for (let i = 0; i < text.length; i += 1) {
    while (marker < markers.length && markers[marker]![1] <= i) marker += 1;
    const current = markers[marker];
    if (current && current[0] <= i && i < current[1]) continue;
    const char = text[i]!;
    if (/\s/.test(char)) {
      if (out.length === 0 || out[out.length - 1] === " ") continue;
      out.push(" ");
    } else {
      out.push(char);
    }
    origin.push(i);
  }
  while (out.length > 0 && out[out.length - 1] === " ") {
    out.pop();
    origin.pop();
  }
  return { text: out.join(""), origin };
}

export function segmentAnswer(text: string, highlights: Highlights): Segment[] {
  const citations: (Interval & { n: number })[] = [];
  for (const match of text.matchAll(CITATION)) {
    const n = Number(match[1]);
    if (n >= 1 && n <= highlights.sourceCount && match.index !== undefined) {
      citations.push({ start: match.index, end: match.index + match[0].length, n });
    }
  }
  // A flagged span that starts or ends inside a citation marker is widened to take the whole marker.
  const snap = (position: number, isEnd: boolean): number => {
    const inside = citations.find((c) => position > c.start && position < c.end);
    return inside ? (isEnd ? inside.end : inside.start) : position;
  };
  const widen = (interval: Interval): Interval => ({ start: snap(interval.start, false), end: snap(interval.end, true) });

  const unsupported = (highlights.unsupported ?? []).flatMap((span) => occurrences(text, span)).map(widen);
  const pii = (highlights.pii ?? []).flatMap((finding) =>
    occurrences(text, finding.text).map((interval) => ({ ...widen(interval), type: finding.type })),
  );

  const cuts = new Set<number>([0, text.length]);
  for (const interval of [...citations, ...unsupported, ...pii]) {
    cuts.add(interval.start);
    cuts.add(interval.end);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const segments: Segment[] = [];
  for (let i = 0; i + 1 < points.length; i += 1) {
    const start = points[i]!;
    const end = points[i + 1]!;
    if (end <= start) continue;
    const piece = text.slice(start, end);
    const covered = (interval: Interval) => interval.start <= start && end <= interval.end;
    const citation = citations.find(covered);
    const segment: Segment = {
      text: piece,
      unsupported: unsupported.some(covered),
    };
    const piiHit = pii.find(covered);
    if (piiHit) segment.pii = piiHit.type;
    if (citation) segment.citation = citation.n;
    const last = segments[segments.length - 1];
    if (
      last &&
      last.citation === undefined &&
      segment.citation === undefined &&
      last.unsupported === segment.unsupported &&
      last.pii === segment.pii
    ) {
      last.text += piece;
    } else {
      segments.push(segment);
    }
  }
  return segments;
}
