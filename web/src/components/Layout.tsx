/** The frame of every page: a skip link, the header with navigation, the page, a footer. */
import { NavLink, Outlet, useNavigate } from 'react-router';
import { useAuth } from '../lib/auth.tsx';
import { SearchBox } from './SearchBox.tsx';

export function Layout() {
  const { user, logout, hasRole } = useAuth();
  const navigate = useNavigate();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <NavLink to="/" className="brand">
          Bazaar
        </NavLink>
        <SearchBox />
        <nav aria-label="Main">
          <ul>
            {(!user || hasRole('customer')) && (
              <li>
                <NavLink to="/cart">Cart</NavLink>
              </li>
            )}
            {hasRole('customer', 'admin') && (
              <li>
                <NavLink to="/orders">Orders</NavLink>
              </li>
            )}
            {hasRole('merchant', 'admin') && (
              <li>
                <NavLink to="/merchant">Merchant</NavLink>
              </li>
            )}
            {hasRole('admin') && (
              <li>
                <NavLink to="/ops">Ops</NavLink>
              </li>
            )}
            {user ? (
              <li>
                <button
                  type="button"
                  className="link-button"
                  onClick={async () => {
                    await logout();
                    navigate('/');
                  }}
                >
                  Log out <span className="visually-hidden">{user.email}</span>
                </button>
              </li>
            ) : (
              <>
                <li>
                  <NavLink to="/login">Log in</NavLink>
                </li>
                <li>
                  <NavLink to="/register">Register</NavLink>
                </li>
              </>
            )}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
      <footer className="site-footer">
        <p>Bazaar — a shop built as microservices. Prices include no real money.</p>
      </footer>
    </>
  );
}
