/* clock — the only place opswall reads the system clocks. The core takes time as an argument. */
#ifndef OW_CLOCK_H
#define OW_CLOCK_H

#include <stdint.h>

int64_t ow_clock_wall_ms(void); /* epoch ms UTC */
int64_t ow_clock_mono_ms(void); /* monotonic ms, for timeouts and intervals */
int64_t ow_clock_mono_us(void); /* monotonic µs, for benchmarks */
void ow_sleep_ms(int64_t ms);

#endif
