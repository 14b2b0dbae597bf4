/**
 * Keeps the host page's content out from under the ribbon. The ribbon is fixed to the bottom of
 * the viewport (it stays in reach however far the page scrolls), so the page must end that much
 * higher: its body gets the ribbon's current height as extra bottom padding, and the document
 * as `scroll-padding-bottom`, so that focusing a control (Tab), `scrollIntoView` and find in page
 * stop above the ribbon too. The height follows the ribbon (collapsed bar, expanded pane, a bar
 * wrapped on a narrow viewport) through a ResizeObserver.
 *
 * Returns what gives the page its own values back (the ribbon leaves the page).
 */
export function reserveSpaceFor(ribbon: HTMLElement): () => void {
  const body = document.body
  const root = document.documentElement
  const inline = { padding: body.style.paddingBottom, scroll: root.style.scrollPaddingBottom }
  // The page's own padding is kept under the ribbon's share, not replaced by it.
  const own = getComputedStyle(body).paddingBottom
  const reserve = () => {
    const height = Math.ceil(ribbon.getBoundingClientRect().height)
    body.style.paddingBottom = `calc(${own} + ${height}px)`
    root.style.scrollPaddingBottom = `${height}px`
  }
  const observer = new ResizeObserver(reserve)
  observer.observe(ribbon)
  reserve()
  return () => {
    observer.disconnect()
    body.style.paddingBottom = inline.padding
    root.style.scrollPaddingBottom = inline.scroll
  }
}
