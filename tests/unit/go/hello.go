// A tiny Go program for tests/unit/gobin_tests.c (standard library only).
//
// main.leakySend starts a goroutine that blocks forever sending on a
// channel nobody receives from. main.lockers starts one that blocks in
// sync.(*Mutex).lockSlow on a mutex main holds: both (*counter).lock and
// sync.(*Mutex).Lock are inlined into main.lockers.func1, so its frame
// expands to three in a traceback. With an argument (a duration such as
// "5s") the program prints "ready" after starting them and sleeps that
// long, so a test can read the blocked goroutines out of the live process.
package main

import (
	"fmt"
	"os"
	"sync"
	"time"
)

//go:noinline
func leakySend(v int) {
	ch := make(chan int)
	go func() {
		ch <- v // blocks forever: nobody receives
	}()
}

type counter struct {
	mu sync.Mutex
	n  int
}

// Small enough to be inlined, with sync.(*Mutex).Lock inlined into it.
func (c *counter) lock() {
	c.mu.Lock()
}

//go:noinline
func lockers(c *counter) {
	go func() {
		c.lock() // blocks forever: main holds c.mu
		c.n++
		c.mu.Unlock()
	}()
}

var held counter

func main() {
	leakySend(42)
	held.mu.Lock()
	lockers(&held)
	d := 10 * time.Millisecond
	if len(os.Args) > 1 {
		if p, err := time.ParseDuration(os.Args[1]); err == nil {
			d = p
		}
	}
	fmt.Println("ready")
	time.Sleep(d)
}
