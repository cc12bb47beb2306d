import { createContext, useContext } from "react";
import type { ApiClient } from "./api/client";
import type { RuntimeConfig } from "./config";
import type { JobTracker } from "./live/jobTracker";

export interface AppServices {
  config: RuntimeConfig;
  client: ApiClient;
  tracker: JobTracker;
  /** Bumped when the admin token changes, so pages that were refused load again. */
  adminTokenVersion: number;
  setAdminToken: (token: string | null) => void;
  hasAdminToken: boolean;
}

export const ServicesContext = createContext<AppServices | null>(null);

export function useServices(): AppServices {
  const services = useContext(ServicesContext);
  if (!services) throw new Error("useServices outside ServicesContext");
  return services;
}
