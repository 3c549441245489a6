// SPDX-License-Identifier: GPL-2.0
//
// goker: small reproductions of real goroutine-blocking bugs, in the style
// of the GoKer kernels (Yuan et al., "Automatically Detecting and Fixing
// Concurrency Bugs in Go Software Systems", ASPLOS 2021, and the GoBench
// suite: bugs reduced from etcd, grpc-go, kubernetes and cockroach), each
// beside its fix.  Written for leaktop's tests; no code from those suites.
//
// Usage: goker all|clean [--seconds N] [--hold N]
//        goker version    (prints runtime.Version())
//
// "all" runs every bug and every fix once per 100 ms step for --seconds N
// (default 3) on an absolute schedule (10 * N steps), "clean" only the
// fixes; then main sleeps --hold N seconds and exits 0.  "ready" goes to
// stdout before the first step.  Main waits in time.Sleep between steps.
//
// Each bug leaks per step exactly (ground truth, Go 1.19; wait reasons in
// parentheses are Go 1.20+'s; "created by" is the function holding the go
// statement; every named function is go:noinline so that it is a frame):
//
//	etcd (a result sent on an unbuffered channel after the requester gave
//	  up on a cancelled context; etcd's watch/lease request pattern): one
//	  goroutine in "chan send" at main.etcdRequest.func1, created by
//	  main.etcdRequest.  Fix: a buffered channel of 1.
//	grpc (a stream's receive loop selects on its messages and a done
//	  channel that the cancel path forgets to close): one in "select" at
//	  main.(*grpcStream).recvLoop, created by main.grpcNewStream.  Fix:
//	  cancel closes done.
//	kubelock (a locked method calls a helper that locks the same mutex:
//	  kubernetes' cache/sync double lock): one in "semacquire"
//	  ("sync.Mutex.Lock") at main.(*kubeCache).refresh, created by
//	  main.kubeSync.  Fix: the helper expects the lock held.
//	kuberw (a recursive RLock while a writer waits: RWMutex readers queue
//	  behind a pending writer): the reader in "semacquire"
//	  ("sync.RWMutex.RLock") at main.kubeRWReader, the writer in
//	  "semacquire" ("sync.RWMutex.Lock") at main.kubeRWWriter, both created
//	  by main.kubeRW.  Fix: the reader does not re-lock.
//	cockroach (an error path returns without wg.Done: the stopper waits
//	  forever): one in "semacquire" ("sync.WaitGroup.Wait") at
//	  main.cockroachStopper, created by main.cockroachRun.  Fix: defer Done.
//	nilselect (a select whose channels were never made: timeouts off and
//	  results not wired): one in "select" at main.(*nilSelector).wait,
//	  created by main.nilSelectStart.  Fix: the channels are made and fed.
//	nilrecv (a range over a channel field nobody made): one in
//	  "chan receive (nil chan)" at main.(*nilRanger).loop, created by
//	  main.nilRecvStart.  Fix: the channel is made and closed.
//
// The fixes leave no goroutine behind once their step is over.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

var (
	seconds = flag.Int("seconds", 3, "run for `N` seconds")
	hold    = flag.Int("hold", 0, "then sleep `N` seconds before exiting")
)

// ------------------------------------------------------------------- etcd

//go:noinline
func etcdRequest(ctx context.Context, buffered bool) {
	ch := make(chan int)
	if buffered {
		ch = make(chan int, 1)
	}
	go func() {
		ch <- 42 // nobody receives once ctx is done
	}()
	if ctx.Err() != nil {
		return // gave up: the reply has no receiver
	}
	<-ch
}

// ------------------------------------------------------------------- grpc

type grpcStream struct {
	done chan struct{}
	msgs chan int
}

//go:noinline
func (s *grpcStream) recvLoop() {
	for {
		select {
		case <-s.msgs:
		case <-s.done:
			return
		}
	}
}

//go:noinline
func grpcNewStream(fixed bool) {
	s := &grpcStream{done: make(chan struct{}), msgs: make(chan int)}
	go s.recvLoop()
	// cancel: the bug forgets close(s.done)
	if fixed {
		close(s.done)
	}
}

// ----------------------------------------------------------- kubernetes

type kubeCache struct {
	mu    sync.Mutex
	items map[int]int
}

//go:noinline
func (c *kubeCache) refresh(locked bool) {
	if !locked {
		c.mu.Lock() // the bug: the caller holds it already
		defer c.mu.Unlock()
	}
	c.items[len(c.items)] = 1
}

//go:noinline
func (c *kubeCache) update(fixed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refresh(fixed)
}

//go:noinline
func kubeSync(fixed bool) {
	c := &kubeCache{items: map[int]int{}}
	go c.update(fixed)
}

//go:noinline
func kubeRWReader(mu *sync.RWMutex, writing chan struct{}, fixed bool, done chan struct{}) {
	mu.RLock()
	close(writing)
	// wait until the writer is queued: TryRLock fails once it is
	for mu.TryRLock() {
		mu.RUnlock()
		runtime.Gosched()
	}
	if !fixed {
		mu.RLock() // queues behind the writer, which waits for us
		mu.RUnlock()
	}
	mu.RUnlock()
	close(done)
}

//go:noinline
func kubeRWWriter(mu *sync.RWMutex, writing chan struct{}) {
	<-writing
	mu.Lock()
	mu.Unlock()
}

//go:noinline
func kubeRW(fixed bool) {
	var mu sync.RWMutex
	writing, done := make(chan struct{}), make(chan struct{})
	go kubeRWReader(&mu, writing, fixed, done)
	go kubeRWWriter(&mu, writing)
	if fixed {
		<-done
	}
}

// ------------------------------------------------------------- cockroach

//go:noinline
func cockroachTask(wg *sync.WaitGroup, fail, fixed bool) {
	if fixed {
		defer wg.Done()
	}
	if fail {
		return // the bug: no Done on the error path
	}
	if !fixed {
		wg.Done()
	}
}

//go:noinline
func cockroachStopper(fixed bool) {
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go cockroachTask(&wg, i == 1, fixed)
	}
	wg.Wait()
}

//go:noinline
func cockroachRun(fixed bool) {
	go cockroachStopper(fixed)
}

// ------------------------------------------------------------ nil channels

type nilSelector struct {
	results chan int
	timeout <-chan time.Time
}

//go:noinline
func (s *nilSelector) wait() {
	select {
	case <-s.results:
	case <-s.timeout:
	}
}

//go:noinline
func nilSelectStart(fixed bool) {
	s := &nilSelector{}
	if fixed {
		s.results = make(chan int, 1)
		s.results <- 1
	}
	go s.wait()
}

type nilRanger struct {
	updates chan int
}

//go:noinline
func (r *nilRanger) loop() {
	for range r.updates {
	}
}

//go:noinline
func nilRecvStart(fixed bool) {
	r := &nilRanger{}
	if fixed {
		r.updates = make(chan int)
		close(r.updates)
	}
	go r.loop()
}

// ------------------------------------------------------------------- main

func step(bugs bool) {
	for _, fixed := range []bool{true, false} {
		if !fixed && !bugs {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the requester has given up before the reply
		etcdRequest(ctx, fixed)
		grpcNewStream(fixed)
		kubeSync(fixed)
		kubeRW(fixed)
		cockroachRun(fixed)
		nilSelectStart(fixed)
		nilRecvStart(fixed)
	}
}

func main() {
	mode := ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
		flag.CommandLine.Parse(os.Args[2:])
	}
	if mode == "version" {
		fmt.Println(runtime.Version())
		return
	}
	if mode != "all" && mode != "clean" {
		fmt.Fprintln(os.Stderr, "usage: goker all|clean [--seconds N] [--hold N]")
		os.Exit(2)
	}
	if _, err := os.Stdout.WriteString("ready\n"); err != nil {
		os.Exit(1)
	}
	start := time.Now()
	for i := 0; i < 10**seconds; i++ {
		step(mode == "all")
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * 100 * time.Millisecond)))
	}
	fmt.Fprintf(os.Stderr, "goker: %s: %d steps, %d goroutines\n", mode, 10**seconds,
		runtime.NumGoroutine())
	time.Sleep(time.Duration(*hold) * time.Second)
}
