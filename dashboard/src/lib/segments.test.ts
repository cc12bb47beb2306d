import { describe, expect, it } from "vitest";
import { segmentAnswer, type Segment } from "./segments";

const plain = (text: string): Segment => ({ text, unsupported: false });

describe("segmentAnswer", () => {
  it("turns [n] into citations only for sources that exist", () => {
    expect(segmentAnswer("Kept 12 months [1]. See [3].", { sourceCount: 2 })).toEqual([
      plain("Kept 12 months "),
      { text: "[1]", citation: 1, unsupported: false },
      plain(". See [3]."),
    ]);
  });

  it("marks unsupported spans even when the evaluation quotes them without citation markers", () => {
    const text = "Logs are kept for 24 months [1]. Reports go to the board [2].";
    const segments = segmentAnswer(text, { sourceCount: 2, unsupported: ["Logs are kept for 24 months."] });
    expect(segments).toEqual([
      { text: "Logs are kept for 24 months ", unsupported: true },
      { text: "[1]", citation: 1, unsupported: true },
      { text: ".", unsupported: true },
      plain(" Reports go to the board "),
      { text: "[2]", citation: 2, unsupported: false },
      plain("."),
    ]);
  });

  it("marks every occurrence of personal data with its type, inside or outside unsupported spans", () => {
    const text = "Mail ann@example.com or ann@example.com.";
    const segments = segmentAnswer(text, {
      sourceCount: 0,
      pii: [{ type: "email", text: "ann@example.com" }],
      unsupported: ["or ann@example.com"],
    });
    expect(segments).toEqual([
      plain("Mail "),
      { text: "ann@example.com", unsupported: false, pii: "email" },
      plain(" "),
      { text: "or ", unsupported: true },
      { text: "ann@example.com", unsupported: true, pii: "email" },
      plain("."),
    ]);
  });

  it("widens a span that ends inside a citation marker to the whole marker", () => {
    const segments = segmentAnswer("Budget is 5M [1] today.", { sourceCount: 1, unsupported: ["Budget is 5M [1"] });
    expect(segments.map((segment) => [segment.text, segment.unsupported, segment.citation])).toEqual([
      ["Budget is 5M ", true, undefined],
      ["[1]", true, 1],
      [" today.", false, undefined],
    ]);
  });

  it("ignores empty and absent spans and keeps the text whole", () => {
    const text = "Nothing to flag [1].";
    const segments = segmentAnswer(text, { sourceCount: 1, unsupported: ["", "  ", "not in the answer"] });
    expect(segments.map((segment) => segment.text).join("")).toBe(text);
    expect(segments.some((segment) => segment.unsupported)).toBe(false);
  });
});
