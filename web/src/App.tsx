/** Every page of the web app and who may see it. */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { lazy, Suspense } from 'react';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { Layout } from './components/Layout.tsx';
import { RequireRole } from './components/RequireRole.tsx';
import { Loading } from './components/ui.tsx';
import { ApiError } from './lib/api.ts';
import { AuthProvider } from './lib/auth.tsx';
import { NotFoundPage } from './pages/NotFound.tsx';
import { LoginPage, RegisterPage } from './pages/shop/Account.tsx';
import { CartPage } from './pages/shop/Cart.tsx';
import { CategoryPage } from './pages/shop/Category.tsx';
import { CheckoutPage } from './pages/shop/Checkout.tsx';
import { HomePage } from './pages/shop/Home.tsx';
import { OrderPage } from './pages/shop/Order.tsx';
import { OrdersPage } from './pages/shop/Orders.tsx';
import { ProductPage } from './pages/shop/Product.tsx';
import { SearchPage } from './pages/shop/Search.tsx';

// The consoles are loaded only by those who open them, so shoppers do not download the charts.
const MerchantProducts = lazy(() => import('./pages/merchant/Products.tsx'));
const MerchantProductEdit = lazy(() => import('./pages/merchant/ProductEdit.tsx'));
const MerchantOrders = lazy(() => import('./pages/merchant/Orders.tsx'));
const OpsLayout = lazy(() => import('./pages/ops/OpsLayout.tsx'));
const OpsConsole = lazy(() => import('./pages/ops/Console.tsx'));
const OpsAlerts = lazy(() => import('./pages/ops/Alerts.tsx'));
const OpsTraces = lazy(() => import('./pages/ops/Traces.tsx'));
const OpsTrace = lazy(() => import('./pages/ops/Trace.tsx'));
const OpsConfig = lazy(() => import('./pages/ops/Config.tsx'));

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: false,
      // Client errors will not change by asking again; unavailability might.
      retry: (count, err) => count < 2 && !(err instanceof ApiError && err.status >= 400 && err.status < 500),
    },
  },
});

const consoles = (roles: ('merchant' | 'admin')[], page: React.ReactNode) => (
  <RequireRole roles={roles}>
    <Suspense fallback={<Loading />}>{page}</Suspense>
  </RequireRole>
);

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { path: '/', element: <HomePage /> },
      { path: '/search', element: <SearchPage /> },
      { path: '/c/:slug', element: <CategoryPage /> },
      { path: '/p/:id', element: <ProductPage /> },
      { path: '/cart', element: <CartPage /> },
      {
        path: '/checkout',
        element: (
          <RequireRole roles={['customer']}>
            <CheckoutPage />
          </RequireRole>
        ),
      },
      {
        path: '/orders',
        element: (
          <RequireRole roles={['customer', 'admin']}>
            <OrdersPage />
          </RequireRole>
        ),
      },
      {
        path: '/orders/:id',
        element: (
          <RequireRole roles={['customer', 'admin']}>
            <OrderPage />
          </RequireRole>
        ),
      },
      { path: '/login', element: <LoginPage /> },
      { path: '/register', element: <RegisterPage /> },
      { path: '/merchant', element: consoles(['merchant', 'admin'], <MerchantProducts />) },
      { path: '/merchant/products/new', element: consoles(['merchant', 'admin'], <MerchantProductEdit />) },
      { path: '/merchant/products/:id', element: consoles(['merchant', 'admin'], <MerchantProductEdit />) },
      { path: '/merchant/orders', element: consoles(['merchant', 'admin'], <MerchantOrders />) },
      {
        path: '/ops',
        element: consoles(['admin'], <OpsLayout />),
        children: [
          { index: true, element: <OpsConsole /> },
          { path: 'alerts', element: <OpsAlerts /> },
          { path: 'traces', element: <OpsTraces /> },
          { path: 'traces/:traceId', element: <OpsTrace /> },
          { path: 'config', element: <OpsConfig /> },
          { path: 'config/:service', element: <OpsConfig /> },
        ],
      },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <AuthProvider>
        <RouterProvider router={router} />
      </AuthProvider>
    </QueryClientProvider>
  );
}
