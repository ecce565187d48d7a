// Emitted in every object that uses them, in COMDAT section groups; the linker keeps one copy.
template <typename T>
__attribute__((noinline)) T scaled(T v)
{
	return v * 2;
}

struct Box {
	long size;
	// Defined in the class body: an inline member function (noipa: no local .isra clone per object).
	__attribute__((noipa)) long doubled() const
	{
		return size + size;
	}
};

long use_a(long n);
long use_b(long n);
