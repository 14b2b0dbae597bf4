import { createRoot } from 'react-dom/client'
import '../shared/styles.css'
import { GatewayConsole } from './GatewayConsole.js'

createRoot(document.getElementById('root') as HTMLElement).render(<GatewayConsole />)
