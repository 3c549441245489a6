// A tiny Go program for tests/unit/gobin_tests.c (standard library only).
//
// main.leakySend starts a goroutine that blocks forever sending on a
// channel nobody receives from. With an argument (a duration such as "5s")
// the program prints "ready" after starting it and sleeps that long, so a
// test can read the blocked goroutine out of the live process.
package main

import (
	"fmt"
	"os"
	"time"
)

//go:noinline
func leakySend(v int) {
	ch := make(chan int)
	go func() {
		ch <- v // blocks forever: nobody receives
	}()
}

func main() {
	leakySend(42)
	d := 10 * time.Millisecond
	if len(os.Args) > 1 {
		if p, err := time.ParseDuration(os.Args[1]); err == nil {
			d = p
		}
	}
	fmt.Println("ready")
	time.Sleep(d)
}
