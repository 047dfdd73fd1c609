module github.com/libhcs/libhcs/bindings/go

go 1.19
