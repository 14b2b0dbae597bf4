import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react'
import { errorText } from './api.js'

/** The current `#/page?query` route; consoles use hash routes so the server serves one page. */
export function useHashRoute(): { page: string; params: URLSearchParams } {
  const read = () => {
    const [page = '', query = ''] = window.location.hash.replace(/^#\/?/, '').split('?')
    return { page, params: new URLSearchParams(query) }
  }
  const [route, setRoute] = useState(read)
  useEffect(() => {
    const onChange = () => setRoute(read())
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return route
}

/** Loads data for a page; `reload` fetches again after a change. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null)
  const [error, setError] = useState<string | null>(null)
  const run = useCallback(load, deps)
  const reload = useCallback(() => {
    run().then(
      (value) => {
        setData(value)
        setError(null)
      },
      (err: unknown) => setError(errorText(err)),
    )
  }, [run])
  useEffect(reload, [reload])
  return { data, error, reload }
}

export interface NavItem {
  page: string
  label: string
}

export function Shell({
  product,
  nav,
  current,
  user,
  onLogout,
  children,
}: {
  product: string
  nav: NavItem[]
  current: string
  user: string
  onLogout(): void
  children: ReactNode
}) {
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">{product}</span>
        <span className="user">{user}</span>
        <button type="button" onClick={onLogout}>
          Log out
        </button>
      </header>
      <nav aria-label="Pages" className="sidenav">
        <ul>
          {nav.map((item) => (
            <li key={item.page}>
              <a href={`#/${item.page}`} aria-current={item.page === current ? 'page' : undefined}>
                {item.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main className="content">{children}</main>
    </div>
  )
}

export function Field({
  label,
  value,
  onChange,
  type = 'text',
  required,
  placeholder,
}: {
  label: string
  value: string
  onChange(value: string): void
  type?: string
  required?: boolean
  placeholder?: string
}) {
  return (
    <label className="field">
      <span>{label}</span>
      <input
        type={type}
        value={value}
        required={required}
        placeholder={placeholder}
        onChange={(event) => onChange(event.target.value)}
      />
    </label>
  )
}

export function Alert({ text }: { text: string | null }) {
  return text ? (
    <p role="alert" className="alert">
      {text}
    </p>
  ) : null
}

/**
 * A form whose submit runs `action`, showing its error; the button is busy meanwhile.
 * `noValidate`: the action checks the fields itself and says what to fix in the form's alert.
 */
export function ActionForm({
  label,
  submit,
  action,
  children,
  noValidate,
}: {
  label: string
  submit: string
  action(): Promise<void>
  children: ReactNode
  noValidate?: boolean
}) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const onSubmit = (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    action()
      .catch((err: unknown) => setError(errorText(err)))
      .finally(() => setBusy(false))
  }
  return (
    <form aria-label={label} className="form" onSubmit={onSubmit} noValidate={noValidate}>
      {children}
      <button type="submit" disabled={busy}>
        {submit}
      </button>
      <Alert text={error} />
    </form>
  )
}

export function Table<T>({
  label,
  rows,
  columns,
  rowKey,
  empty = 'Nothing yet.',
}: {
  label: string
  rows: T[]
  columns: { title: string; cell(row: T): ReactNode }[]
  rowKey(row: T): string
  empty?: string
}) {
  if (rows.length === 0) return <p className="empty">{empty}</p>
  return (
    <table aria-label={label}>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.title} scope="col">
              {c.title}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)}>
            {columns.map((c) => (
              <td key={c.title}>{c.cell(row)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  )
}

export function LoginForm({
  title,
  userLabel,
  onLogin,
}: {
  title: string
  userLabel: string
  onLogin(user: string, password: string): Promise<void>
}) {
  const [user, setUser] = useState('')
  const [password, setPassword] = useState('')
  return (
    <main className="login">
      <h1>{title}</h1>
      <ActionForm label="Log in" submit="Log in" action={() => onLogin(user, password)}>
        <Field label={userLabel} value={user} onChange={setUser} required />
        <Field label="Password" type="password" value={password} onChange={setPassword} required />
      </ActionForm>
    </main>
  )
}
