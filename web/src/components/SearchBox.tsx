/**
 * The header's product search. Typing searches as the shopper goes (after a short pause), replacing
 * the history entry while on the search page so Back leaves the search rather than stepping
 * through every letter; Enter searches at once.
 */
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { useLocation, useNavigate, useSearchParams } from 'react-router';

/** How long typing must pause before the search runs. */
const DEBOUNCE_MS = 250;

/** The search form of the site header. */
export function SearchBox() {
  const id = useId();
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const [params] = useSearchParams();
  const onSearchPage = pathname === '/search';
  const urlQuery = onSearchPage ? (params.get('q') ?? '') : '';
  const [text, setText] = useState(urlQuery);
  const [shownQuery, setShownQuery] = useState(urlQuery);
  const [sentQuery, setSentQuery] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);

  // Follow the address when it changes from elsewhere (Back, a link), not to what was just typed.
  if (urlQuery !== shownQuery) {
    setShownQuery(urlQuery);
    if (urlQuery !== sentQuery && urlQuery !== text.trim()) setText(urlQuery);
    setSentQuery(null);
  }

  useEffect(() => () => clearTimeout(timer.current), []);

  const search = (value: string) => {
    clearTimeout(timer.current);
    const q = value.trim();
    if (!q && !onSearchPage) return;
    setSentQuery(q);
    navigate(q ? `/search?q=${encodeURIComponent(q)}` : '/search', { replace: onSearchPage });
  };

  const onChange = (value: string) => {
    setText(value);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => search(value), DEBOUNCE_MS);
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    search(text);
  };

  return (
    // biome-ignore lint/a11y/useSemanticElements: <search> is not yet a landmark in every browser in use; a form with the role is.
    <form role="search" className="search-box" onSubmit={onSubmit}>
      <label htmlFor={id} className="visually-hidden">
        Search products
      </label>
      <input
        id={id}
        type="search"
        name="q"
        value={text}
        onChange={(event) => onChange(event.target.value)}
        placeholder="Search products"
        autoComplete="off"
        enterKeyHint="search"
        maxLength={200}
      />
    </form>
  );
}
