#include "partkeys.h"

#include "keys.h"

void ow_partkeys_init(ow_partkeys *k, int p)
{
    k->partition = p;
#define K(field, key0) ow_partition_rekey(k->field, sizeof k->field, p, key0)
    K(events, OW_KEY_EVENTS);
    K(alerts, OW_KEY_ALERTS);
    K(alert_changes, OW_KEY_ALERT_CHANGES);
    K(alerts_open, OW_KEY_ALERTS_OPEN);
    K(acks, OW_KEY_ACKS);
    K(requests, OW_KEY_REQUESTS);
    K(order_prefix, OW_KEY_ORDER_PREFIX);
    K(order_ready, OW_CHAN_ORDER_READY);
    K(checkpoint, OW_KEY_CHECKPOINT);
    K(snapshot, OW_KEY_SNAPSHOT);
    K(deltas, OW_CHAN_DELTAS);
    K(live, OW_CHAN_LIVE);
    K(replay, OW_KEY_REPLAY);
#undef K
}
