int placeholder_main(void) { return 0; }
