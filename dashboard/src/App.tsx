import { useMemo, useState } from "react";
import { ApiClient } from "./api/client";
import type { RuntimeConfig } from "./config";
import { ServicesContext, type AppServices } from "./context";
import { JobTracker } from "./live/jobTracker";
import { hrefFor, useRoute, type Route } from "./lib/router";
import { adminTokenStore } from "./lib/storage";
import { ChatPage } from "./pages/ChatPage";
import { JobDetailPage } from "./pages/JobDetailPage";
import { JobsPage } from "./pages/JobsPage";
import { OperationsPage } from "./pages/OperationsPage";
import { QualityPage } from "./pages/QualityPage";

const NAV: { page: Route["page"]; label: string }[] = [
  { page: "chat", label: "Chat" },
  { page: "jobs", label: "Jobs" },
  { page: "quality", label: "Quality" },
  { page: "operations", label: "Operations" },
];

export function useAppServices(config: RuntimeConfig, overrides: Partial<AppServices> = {}): AppServices {
  const [tokenVersion, setTokenVersion] = useState(0);
  const [hasToken, setHasToken] = useState(() => adminTokenStore.get() !== null);
  const client = useMemo(
    () => overrides.client ?? new ApiClient(config.apiUrl, { adminToken: () => adminTokenStore.get() }),
    [config.apiUrl, overrides.client],
  );
  const tracker = useMemo(
    () =>
      overrides.tracker ?? new JobTracker({ wsUrl: config.websocketUrl, fetchJob: (jobId) => client.getJob(jobId) }),
    [config.websocketUrl, client, overrides.tracker],
  );
  return {
    config,
    client,
    tracker,
    adminTokenVersion: tokenVersion,
    hasAdminToken: hasToken,
    setAdminToken: (token) => {
      if (token) adminTokenStore.set(token);
      else adminTokenStore.clear();
      setHasToken(token !== null);
      setTokenVersion((version) => version + 1);
    },
  };
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "jobs":
      return <JobsPage />;
    case "job":
      return <JobDetailPage jobId={route.jobId} />;
    case "quality":
      return <QualityPage />;
    case "operations":
      return <OperationsPage />;
    default:
      return <ChatPage />;
  }
}

export function Shell({ services }: { services: AppServices }) {
  const route = useRoute();
  const active = route.page === "job" ? "jobs" : route.page;
  return (
    <ServicesContext.Provider value={services}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <p className="brand">
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{" "}
          Endurance
        </p>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.page}>
                <a href={hrefFor({ page: item.page } as Route)} aria-current={active === item.page ? "page" : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </ServicesContext.Provider>
  );
}

export function App({ config }: { config: RuntimeConfig }) {
  const services = useAppServices(config);
  return <Shell services={services} />;
}
