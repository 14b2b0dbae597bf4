import { useEffect, useState } from 'react'
import { call, errorText, type Transport } from '../shared/api.js'

/**
 * "Export" buttons: the console fetches the document with its session and offers it as a file
 * (a blob URL, so no token ever appears in a link).
 */
export function ExportButton({
  transport,
  label,
  path,
  fileName,
}: {
  transport: Transport
  label: string
  path: string
  fileName: string
}) {
  const [url, setUrl] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => () => void (url && URL.revokeObjectURL(url)), [url])
  const fetchIt = () =>
    call<unknown>(transport, 'GET', path).then(
      (document) => {
        const blob = new Blob([JSON.stringify(document, null, 2)], { type: 'application/json' })
        setUrl(URL.createObjectURL(blob))
        setError(null)
      },
      (err: unknown) => setError(errorText(err)),
    )
  return (
    <span className="row">
      <button type="button" onClick={() => void fetchIt()}>
        {label}
      </button>
      {url && (
        <a href={url} download={fileName}>
          Download {fileName}
        </a>
      )}
      {error && (
        <span role="alert" className="alert">
          {error}
        </span>
      )}
    </span>
  )
}

/**
 * A casebook's or incident's two exports: the CTIM bundle (CTIA's bundle export, which
 * follows the entity's relationships) and the STIX 2.1 bundle of the hub's sharing API.
 */
export function EntityExports({
  transport,
  kind,
  entityId,
  shortId,
}: {
  transport: Transport
  kind: 'casebook' | 'incident'
  /** The CTIA id URL. */
  entityId: string
  shortId: string
}) {
  return (
    <>
      <ExportButton
        transport={transport}
        label="Export CTIM bundle"
        path={`/ctia/bundle/export?ids=${encodeURIComponent(entityId)}`}
        fileName={`${shortId}.ctim.json`}
      />
      <ExportButton
        transport={transport}
        label="Export STIX 2.1"
        path={`/api/v1/${kind}s/${encodeURIComponent(shortId)}/stix`}
        fileName={`${shortId}.stix.json`}
      />
    </>
  )
}
