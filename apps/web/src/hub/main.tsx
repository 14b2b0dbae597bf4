import { createRoot } from 'react-dom/client'
import '../shared/styles.css'
import { HubConsole } from './HubConsole.js'

createRoot(document.getElementById('root') as HTMLElement).render(<HubConsole />)
