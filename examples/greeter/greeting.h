const char *greeting(int n);
