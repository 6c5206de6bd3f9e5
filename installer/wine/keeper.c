/*
 * keeper.exe sleeps until killed. Wine's service manager (services.exe) only
 * stays up while some other wine process runs in the prefix: check.sh starts
 * this in the background for the whole check, so the erpbridge service is not
 * torn down between two commands, and ends it with wineserver -k.
 *
 *   x86_64-w64-mingw32-gcc -O2 -o keeper.exe keeper.c
 */
#include <windows.h>

int main(void)
{
	for (;;)
		Sleep(INFINITE);
	return 0;
}
