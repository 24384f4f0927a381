/*
 * crc16 — the key → hash slot function of Redis Cluster.
 *
 * A key's slot is CRC16 (the XMODEM variant: polynomial 0x1021, initial value 0, no reflection,
 * no final xor) of the key modulo 16384. When the key holds a hash tag — a '{' followed later by
 * a '}' with at least one byte between them, the first '{' and the first '}' after it — only the
 * bytes between them are hashed, so "ops:{p3}:events" and "ops:{p3}:alerts" share a slot.
 *
 * Pure: no state, no allocation.
 */
#ifndef OW_CRC16_H
#define OW_CRC16_H

#include <stddef.h>
#include <stdint.h>

#define OW_CLUSTER_SLOTS 16384

/* CRC16-XMODEM of n bytes ("123456789" gives 0x31C3). */
uint16_t ow_crc16(const void *data, size_t n);

/* The Redis Cluster slot (0..16383) of a key of n bytes (binary-safe), hash tags applied. */
int ow_crc16_keyslot(const char *key, size_t n);

#endif
