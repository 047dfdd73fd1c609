// Command example runs one command in a new container over a root folder and prints its
// output, using the Go binding of libhcs:
//
//	sudo go run ./example /path/to/rootfs echo hello
//
// A root folder can be made with tools/mkroot DIR (busybox). The exit status is the command's.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	hcs "github.com/libhcs/libhcs/bindings/go"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: example ROOTFS COMMAND [ARG...]")
		os.Exit(2)
	}
	code, err := run(os.Args[1], os.Args[2:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(rootfs string, args []string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	id := fmt.Sprintf("go-example-%d", os.Getpid())
	sys, err := hcs.CreateSystem(ctx, id, &hcs.ComputeSystem{
		Owner: "go-example",
		Container: &hcs.Container{
			Storage: &hcs.Storage{Layers: []hcs.Layer{{Path: rootfs}}},
		},
	})
	if err != nil {
		return 0, err
	}
	defer sys.Close()
	defer sys.Terminate(context.Background()) // runs before Close
	if err := sys.Start(ctx); err != nil {
		return 0, err
	}

	p, err := sys.CreateProcess(ctx, &hcs.ProcessParameters{
		CommandArgs:      args,
		CreateStdOutPipe: true,
		CreateStdErrPipe: true,
	})
	if err != nil {
		return 0, err
	}
	defer p.Close()
	go io.Copy(os.Stderr, p.Stderr())
	if _, err := io.Copy(os.Stdout, p.Stdout()); err != nil {
		return 0, err
	}
	if err := p.Wait(ctx); err != nil {
		return 0, err
	}
	return p.ExitCode()
}
