import { Component, type ReactNode } from 'react'

/**
 * Keeps one page's failure to that page: an answer the page did not expect shows an alert
 * instead of unmounting the whole console (navigation and the ribbon stay usable).
 */
export class PageBoundary extends Component<{ page: string; children: ReactNode }> {
  state: { failed: string | null } = { failed: null }

  static getDerivedStateFromError(error: unknown) {
    return { failed: error instanceof Error ? error.message : String(error) }
  }

  componentDidUpdate(previous: { page: string }) {
    if (previous.page !== this.props.page && this.state.failed) this.setState({ failed: null })
  }

  render() {
    if (this.state.failed)
      return (
        <p role="alert" className="alert">
          This page failed to show: {this.state.failed}
        </p>
      )
    return this.props.children
  }
}
