#include "signals.h"

volatile sig_atomic_t ow_stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    ow_stop_requested = 1;
}

void ow_signals_install(void)
{
    /* no SA_RESTART: a blocking read returns EINTR, so loops notice the stop promptly */
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, 0);
    sigaction(SIGTERM, &sa, 0);
    signal(SIGPIPE, SIG_IGN);
}
