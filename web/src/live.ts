// The project's live event stream (Server-Sent Events). EventSource reconnects and resumes by
// itself; a `reset` means missed changes are gone and the view must reload.
export type LiveHandler = (kind: string, data: Record<string, unknown>) => void

export interface LiveStream {
  close(): void
}

const kinds = ['meter', 'gateway', 'account', 'alarm', 'command']

export function openLive(projectPath: string, onEvent: LiveHandler, onReset: () => void): LiveStream {
  const source = new EventSource('/api/v1' + projectPath + '/events', { withCredentials: true })
  for (const kind of kinds) {
    source.addEventListener(kind, (e) => {
      try {
        onEvent(kind, JSON.parse((e as MessageEvent).data))
      } catch {
        /* a malformed event is skipped; the next reload corrects the view */
      }
    })
  }
  source.addEventListener('reset', () => onReset())
  return { close: () => source.close() }
}
