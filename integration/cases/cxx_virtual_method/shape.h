// A class hierarchy: area() is virtual (called through the vtable), perimeter() is not (called directly).
struct Shape {
	virtual ~Shape() {}
	virtual long area() const = 0;
};

struct Square : Shape {
	long side;
	explicit Square(long s) : side(s) {}
	long area() const override;
	long perimeter() const;
};

// Defined in shape.cpp, so that main.cpp cannot see the dynamic type and devirtualize area().
Shape *make_square(long side);
