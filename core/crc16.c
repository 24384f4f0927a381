#include "crc16.h"

/* The CRC register after shifting 4 bits of value i << 12 through the polynomial 0x1021: a
 * nibble at a time keeps the table small enough to check by hand. */
static const uint16_t nibble[16] = {0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7,
                                    0x8108, 0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef};

uint16_t ow_crc16(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc = (uint16_t)((crc << 4) ^ nibble[(crc >> 12) ^ (p[i] >> 4)]);
        crc = (uint16_t)((crc << 4) ^ nibble[(crc >> 12) ^ (p[i] & 0x0f)]);
    }
    return crc;
}

int ow_crc16_keyslot(const char *key, size_t n)
{
    size_t open = 0;
    while (open < n && key[open] != '{')
        open++;
    if (open < n) {
        size_t close = open + 1;
        while (close < n && key[close] != '}')
            close++;
        /* "{}" (nothing between) and an unclosed '{' hash the whole key */
        if (close < n && close > open + 1) {
            key += open + 1;
            n = close - open - 1;
        }
    }
    return ow_crc16(key, n) & (OW_CLUSTER_SLOTS - 1);
}
