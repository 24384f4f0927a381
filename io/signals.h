/*
 * signals — how every opswall program stops: SIGINT and SIGTERM set one flag that the main loop
 * checks (nothing else happens in the handler); SIGPIPE is ignored so a closed socket is an error
 * return, not a death.
 */
#ifndef OW_SIGNALS_H
#define OW_SIGNALS_H

#include <signal.h>

/* Set to 1 by SIGINT/SIGTERM once ow_signals_install ran. Process-wide by nature. */
extern volatile sig_atomic_t ow_stop_requested;

void ow_signals_install(void);

#endif
