// Hash routes (#/chat, #/jobs, #/jobs/<id>, #/quality, #/operations): they work behind any static host,
// S3 and CloudFront included, with no rewrite rules.
import { useEffect, useState } from "react";

export type Route =
  | { page: "chat" }
  | { page: "jobs" }
  | { page: "job"; jobId: string }
  | { page: "quality" }
  | { page: "operations" };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "").replace(/^\/+/, "");
  const [first, second] = path.split("/");
  switch (first) {
    case "jobs":
      return second ? { page: "job", jobId: decodeURIComponent(second) } : { page: "jobs" };
    case "quality":
      return { page: "quality" };
    case "operations":
      return { page: "operations" };
    default:
      return { page: "chat" };
  }
}

export function hrefFor(route: Route): string {
  switch (route.page) {
    case "job":
      return `#/jobs/${encodeURIComponent(route.jobId)}`;
    default:
      return `#/${route.page}`;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
