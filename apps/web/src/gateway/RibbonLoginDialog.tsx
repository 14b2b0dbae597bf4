import { useEffect, useRef, useState } from 'react'
import { call, type Transport } from '../shared/api.js'
import { ActionForm, Field } from '../shared/ui.js'

/**
 * "Login to use the ribbon" (seed §3): client id, client secret and hub server. The gateway
 * checks them with the hub and keeps them sealed; the page only ever gets short-lived tokens.
 */
export function RibbonLoginDialog({
  transport,
  open,
  current,
  onClose,
  onSaved,
}: {
  transport: Transport
  open: boolean
  current: { clientId: string | null; hubUrl: string | null }
  onClose(): void
  onSaved(hubUrl: string): void
}) {
  const dialog = useRef<HTMLDialogElement>(null)
  const [clientId, setClientId] = useState(current.clientId ?? '')
  const [secret, setSecret] = useState('')
  const [hubUrl, setHubUrl] = useState(current.hubUrl ?? '')
  useEffect(() => {
    if (open && !dialog.current?.open) dialog.current?.showModal()
    if (!open && dialog.current?.open) dialog.current.close()
  }, [open])
  return (
    <dialog ref={dialog} aria-labelledby="ribbon-login-title" onClose={onClose}>
      <h2 id="ribbon-login-title">Login to use the ribbon</h2>
      <ActionForm
        label="Ribbon login"
        submit="Authenticate"
        action={async () => {
          const answer = await call<{ hubUrl: string }>(transport, 'PUT', '/api/v1/ribbon/login', {
            clientId: clientId.trim(),
            clientSecret: secret,
            hubUrl: hubUrl.trim(),
          })
          setSecret('')
          onSaved(answer.hubUrl)
        }}
      >
        <Field label="Client ID" value={clientId} onChange={setClientId} required />
        <Field label="Client secret" type="password" value={secret} onChange={setSecret} required />
        <Field
          label="Hub server"
          value={hubUrl}
          onChange={setHubUrl}
          placeholder="https://hub.example.com"
          required
        />
      </ActionForm>
      <button type="button" onClick={onClose}>
        Cancel
      </button>
    </dialog>
  )
}
