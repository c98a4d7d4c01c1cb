/** Logging in and creating an account; both end where the shopper was going. */
import type { Role } from '@bazaar/contracts';
import { type FormEvent, type ReactNode, useId, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { ErrorNote, PageTitle } from '../../components/ui.tsx';
import { ApiError, fieldErrors } from '../../lib/api.ts';
import { useAuth } from '../../lib/auth.tsx';

/** Password length limits (QUALITY.md; `PASSWORD_*_LENGTH` in the contracts, not bundled here). */
const PASSWORD_MIN_LENGTH = 10;
const PASSWORD_MAX_LENGTH = 128;

/**
 * Where to go after signing in: `?next=` when it is a path on this site (never another origin,
 * `//host` or `/\host`), else the role's home.
 */
function destination(next: string | null, role: Role): string {
  if (next?.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\')) return next;
  if (role === 'merchant') return '/merchant';
  if (role === 'admin') return '/ops';
  return '/';
}

/** `/login`. */
export function LoginPage() {
  const { login } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = params.get('next');
  const id = useId();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [sending, setSending] = useState(false);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setSending(true);
    setError(null);
    try {
      const user = await login(email.trim(), password);
      navigate(destination(next, user.role), { replace: true });
    } catch (err) {
      setError(err);
      setSending(false);
    }
  };

  return (
    <section className="form account-form">
      <PageTitle>Log in</PageTitle>
      <form onSubmit={onSubmit}>
        {error !== null && <ErrorNote error={error} />}
        <div className="field">
          <label htmlFor={`${id}-email`}>Email</label>
          <input
            id={`${id}-email`}
            type="email"
            autoComplete="username"
            required
            maxLength={254}
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-password`}>Password</label>
          <input
            id={`${id}-password`}
            type="password"
            autoComplete="current-password"
            required
            maxLength={PASSWORD_MAX_LENGTH}
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </div>
        <button type="submit" disabled={sending}>
          Log in
        </button>
      </form>
      <p>
        New to Bazaar? <Link to={withNext('/register', next)}>Create an account</Link>
      </p>
    </section>
  );
}

/** `/register`: a customer account, or a merchant one on request. */
export function RegisterPage() {
  const { register } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = params.get('next');
  const id = useId();
  const [form, setForm] = useState({ name: '', email: '', password: '' });
  const [merchant, setMerchant] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [tooShort, setTooShort] = useState(false);
  const [sending, setSending] = useState(false);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const shortPassword = form.password.length < PASSWORD_MIN_LENGTH;
    setTooShort(shortPassword);
    if (shortPassword) {
      document.getElementById(`${id}-password`)?.focus();
      return;
    }
    setSending(true);
    setError(null);
    try {
      const user = await register({
        name: form.name.trim(),
        email: form.email.trim(),
        password: form.password,
        role: merchant ? 'merchant' : 'customer',
      });
      navigate(destination(next, user.role), { replace: true });
    } catch (err) {
      setError(err);
      setSending(false);
    }
  };

  const fields = fieldErrors(error);
  if (error instanceof ApiError && error.code === 'EMAIL_TAKEN')
    fields.email = 'is already used by an account.';
  if (tooShort) fields.password = `must be at least ${PASSWORD_MIN_LENGTH} characters.`;
  const set = (name: keyof typeof form) => (value: string) => setForm((f) => ({ ...f, [name]: value }));

  return (
    <section className="form account-form">
      <PageTitle>Create an account</PageTitle>
      <form onSubmit={onSubmit} noValidate>
        {error !== null && <ErrorNote error={error} />}
        <TextField id={`${id}-name`} label="Name" error={fields.name}>
          {(a11y) => (
            <input
              {...a11y}
              type="text"
              autoComplete="name"
              required
              maxLength={100}
              value={form.name}
              onChange={(event) => set('name')(event.target.value)}
            />
          )}
        </TextField>
        <TextField id={`${id}-email`} label="Email" error={fields.email}>
          {(a11y) => (
            <input
              {...a11y}
              type="email"
              autoComplete="email"
              required
              maxLength={254}
              value={form.email}
              onChange={(event) => set('email')(event.target.value)}
            />
          )}
        </TextField>
        <TextField id={`${id}-password`} label="Password" error={fields.password} hint="10 to 128 characters">
          {(a11y) => (
            <input
              {...a11y}
              type="password"
              autoComplete="new-password"
              required
              minLength={PASSWORD_MIN_LENGTH}
              maxLength={PASSWORD_MAX_LENGTH}
              value={form.password}
              onChange={(event) => set('password')(event.target.value)}
            />
          )}
        </TextField>
        <div className="field checkbox">
          <input
            id={`${id}-merchant`}
            type="checkbox"
            checked={merchant}
            onChange={(event) => setMerchant(event.target.checked)}
          />
          <label htmlFor={`${id}-merchant`}>I want to sell on Bazaar (merchant account)</label>
        </div>
        <button type="submit" disabled={sending}>
          Create account
        </button>
      </form>
      <p>
        Already have an account? <Link to={withNext('/login', next)}>Log in instead</Link>
      </p>
    </section>
  );
}

/** `path` carrying the same `?next=` on. */
function withNext(path: string, next: string | null): string {
  return next ? `${path}?next=${encodeURIComponent(next)}` : path;
}

interface FieldA11y {
  id: string;
  'aria-invalid'?: true;
  'aria-describedby'?: string;
}

/** A labelled input with an optional hint and error, both read out with it. */
function TextField({
  id,
  label,
  hint,
  error,
  children,
}: {
  id: string;
  label: string;
  hint?: string;
  error?: string;
  children: (a11y: FieldA11y) => ReactNode;
}) {
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint && hintId, error && errorId].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p id={hintId} className="hint muted">
          {hint}
        </p>
      )}
      {children({
        id,
        ...(error ? { 'aria-invalid': true } : {}),
        ...(describedBy ? { 'aria-describedby': describedBy } : {}),
      })}
      {error && (
        <p id={errorId} className="field-error">
          {label} {error}
        </p>
      )}
    </div>
  );
}
