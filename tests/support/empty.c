/* Keeps the support library non-empty. */
int skytest_support_empty;
