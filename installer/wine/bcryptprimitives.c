/*
 * bcryptprimitives.dll for wine 8, which lacks it. Go 1.22 and later read
 * random bytes with ProcessPrng from this DLL at startup; without it
 * erpbridge.exe does not start under wine. This stand-in forwards to
 * RtlGenRandom (SystemFunction036 in advapi32), which wine has.
 *
 * check.sh builds it into the wine prefix's system32:
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 * Never install it on real Windows, which has its own.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
	while (length > 0) {
		ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		length -= n;
	}
	return TRUE;
}
