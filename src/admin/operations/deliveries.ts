import { CurfewError } from '../../errors.ts';
import type { AdminActor } from './actions.ts';
import { notFound, recordWrite, requireOrg, type OperationDeps } from './context.ts';

/** Sends a dead-lettered logout token again (SPEC §9). A delivery still pending is refused: it is already being retried. */
export async function retryDelivery(deps: OperationDeps, by: AdminActor, deliveryId: string): Promise<{ id: string; state: 'pending' }> {
  await requireOrg(deps, by);
  const delivery = await deps.store.deliveries.get(deliveryId);
  if (!delivery || delivery.org !== by.org) throw notFound('delivery');
  if (!(await deps.store.deliveries.revive(delivery.id))) throw new CurfewError('conflict', 'only dead deliveries can be retried');
  await recordWrite(deps, by, { action: 'delivery.retry', target: delivery.id, before: { state: delivery.state, lastError: delivery.lastError }, after: { state: 'pending' } });
  return { id: delivery.id, state: 'pending' };
}
