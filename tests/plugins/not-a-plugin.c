/* Fixture: a shared object that is not a skyengine plugin. */
__attribute__((visibility("default"))) int some_function(void);
__attribute__((visibility("default"))) int some_function(void)
{
	return 42;
}
