import { createRoot } from 'react-dom/client'
import '../shared/styles.css'

createRoot(document.getElementById('root') as HTMLElement).render(<p>Postern gateway</p>)
