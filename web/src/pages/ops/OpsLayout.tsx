/**
 * The frame of every ops console page: the console's own navigation (with the number of firing
 * alerts next to "Alerts", kept fresh every 5 s on every page) above the page.
 */
import { Suspense } from 'react';
import { NavLink, Outlet } from 'react-router';
import { Loading } from '../../components/ui.tsx';
import { useOpsAlerts } from '../../lib/ops.ts';

/** The ops console's frame (lazy-loaded by App); its pages render in the outlet. */
export default function OpsLayout() {
  return (
    <div className="ops-frame">
      <nav aria-label="Operations" className="ops-nav">
        <ul>
          <li>
            <NavLink to="/ops" end>
              Overview
            </NavLink>
          </li>
          <li>
            <NavLink to="/ops/alerts">
              Alerts <FiringBadge />
            </NavLink>
          </li>
          <li>
            <NavLink to="/ops/traces">Traces</NavLink>
          </li>
          <li>
            <NavLink to="/ops/config">Config</NavLink>
          </li>
        </ul>
      </nav>
      <Suspense fallback={<Loading />}>
        <Outlet />
      </Suspense>
    </div>
  );
}

/** How many alerts fire now; nothing when none does or the count is not known. */
function FiringBadge() {
  const alerts = useOpsAlerts();
  const firing = alerts.data?.items.filter((a) => a.state === 'firing').length ?? 0;
  if (firing === 0) return null;
  return (
    <span className="badge badge-firing">
      {firing}
      <span className="visually-hidden"> firing</span>
    </span>
  );
}
