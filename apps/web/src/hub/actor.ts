/** Who did something, as the hub's API names it (a user or an API client). */
export interface Actor {
  type: string
  id: string
}

export const actorText = (actor: Actor): string => `${actor.type}:${actor.id}`
