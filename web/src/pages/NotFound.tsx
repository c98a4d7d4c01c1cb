import { Link } from 'react-router';
import { PageTitle } from '../components/ui.tsx';

export function NotFoundPage() {
  return (
    <section>
      <PageTitle>Page not found</PageTitle>
      <p>
        There is no page here. <Link to="/">Go to the shop’s home page</Link>.
      </p>
    </section>
  );
}
