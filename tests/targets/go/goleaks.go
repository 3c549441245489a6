// SPDX-License-Identifier: GPL-2.0
//
// goleaks: goroutine leak patterns for leaktop's Go tests, one per mode.
//
// Usage: goleaks MODE [--seconds N] [--hold N] [--forever] [--depth N]
//
// Every mode but preblock (and version) first starts the control pool (see
// "pool" below), prints "ready" on stdout, runs its pattern for --seconds N
// (default 4) at a steady rate on an absolute schedule (one step every
// 100 ms, so exactly 10 * N steps), then sleeps --hold N seconds (default
// 0) and exits 0; with --forever it sleeps until killed instead.  The main
// goroutine waits in time.Sleep ("sleep") between steps and while holding;
// it waits on channels, a WaitGroup or an HTTP round trip only for
// milliseconds within a step, and never in select {}.  A summary line goes
// to stderr once the pattern is over.
//
// Ground truth, Go 1.19, checked against goroutine dumps (kill -QUIT with
// GOTRACEBACK=all): function names as the runtime prints them, the same in
// the stripped build; "frames" innermost first, every stack ending in
// runtime.goexit (not listed below); "(inlined)" frames have no machine
// frame of their own, only the pclntab inline tree names them; created by
// = the function holding the go statement.  N = --seconds, counts once the
// N seconds are over; with the defaults 10 * N = 40.
//
//	pool (in every mode, the control): main.startPool starts 4 goroutines
//	  running main.worker, which range over the jobs channel; main feeds
//	  exactly 4 jobs at once, then nothing: 4 goroutines waiting in
//	  "chan receive", frames runtime.gopark, runtime.chanrecv,
//	  runtime.chanrecv2, main.worker, main.startPool.func1 (the wrapper
//	  the compiler makes for go worker(i, jobs)); created by
//	  main.startPool.  Fixed
//	  size, idle from the start: no leak.
//
//	chansend: every step main.leakySend starts go func() { ch <- v }() on a
//	  fresh unbuffered channel and returns without receiving (its caller
//	  "timed out"): 10 * N goroutines in "chan send", frames
//	  runtime.gopark, runtime.chansend, runtime.chansend1,
//	  main.leakySend.func1; created by main.leakySend.  Leak, growing by
//	  10 a second.
//
//	chanrecv: every step main.startConsumer makes a channel, starts
//	  go consume(ch) and drops the channel without closing it: 10 * N
//	  goroutines in "chan receive", frames runtime.gopark, runtime.chanrecv,
//	  runtime.chanrecv2, main.consume, main.startConsumer.func1 (wrapper);
//	  created by main.startConsumer.  Leak.
//
//	mutex: main locks the mutex held for good, then every step
//	  main.lockers(1) starts a goroutine main.lockers.func1 calling
//	  held.Lock(): 10 * N goroutines in "semacquire", frames
//	  runtime.gopark, runtime.goparkunlock (inlined), runtime.semacquire1,
//	  sync.runtime_SemacquireMutex, sync.(*Mutex).lockSlow,
//	  sync.(*Mutex).Lock (inlined into main.lockers.func1: in the machine
//	  stack only lockSlow and main.lockers.func1 are real frames),
//	  main.lockers.func1; created by main.lockers.  Leak.
//
//	waitgroup: never (a sync.WaitGroup) gets Add(1) and never a Done; every
//	  step main.waiters(1) starts a goroutine main.waiters.func1 calling
//	  never.Wait(): 10 * N goroutines in "semacquire", frames
//	  runtime.gopark, runtime.goparkunlock (inlined), runtime.semacquire1,
//	  sync.runtime_Semacquire, sync.(*WaitGroup).Wait, main.waiters.func1;
//	  created by main.waiters.  Leak.
//
//	httpbody: main.startServer serves 1 KB bodies on 127.0.0.1:0 with
//	  net/http (go srv.Serve(ln): 1 goroutine in "IO wait" in accept,
//	  created by main.startServer, fixed).  Every step main.fetchNoClose
//	  makes a GET with a client whose transport has DisableKeepAlives and
//	  keeps the response without ever reading or closing its Body: each
//	  request leaves one connection with 2 goroutines, both in "select" and
//	  created by net/http.(*Transport).dialConn:
//	  runtime.gopark, runtime.selectgo, net/http.(*persistConn).readLoop
//	  (waiting for the body to be read), net/http.(*Transport).dialConn.func5
//	  and runtime.gopark, runtime.selectgo,
//	  net/http.(*persistConn).writeLoop,
//	  net/http.(*Transport).dialConn.func6; 10 * N of each.  Leak.  The
//	  server side closes its end after each response (its per-connection
//	  goroutines end).  There may be a runtime.runfinq system goroutine
//	  (finalizers of net and os files).
//
//	churn: every 10 ms main starts 4 goroutines (main.churnBurst, created
//	  by main.churnRound) that allocate and drop 64 []byte slices of 1 to
//	  5 KB each and end; main waits for them (sync.WaitGroup, a few ms in
//	  "semacquire") and allocates and drops as much itself.  Nothing leaks:
//	  no goroutine outlives its round, the heap stays flat.
//
//	subslice: GC made rare (debug.SetGCPercent(800)); every step
//	  main.readChunk fills a fresh 512 KiB read buffer and keeps a 2-byte
//	  sub-slice of its tail in the global tails: the sub-slice keeps the
//	  whole array alive, so in-use heap grows 5 MiB a second at
//	  main.readChunk while the program means to keep 20 bytes a second.
//
//	recursion: every step main.recurseRound starts 4 goroutines
//	  (main.deepWorker, under its wrapper main.recurseRound.func1) that each recurse main.descend --depth D (default
//	  10000) deep with 1 KB of locals per frame, so that the stack of each
//	  grows from 8 KB to 16 MB, copied at every doubling.  Every 1000
//	  levels a frame also allocates a heap slice, and halfway down each
//	  starts a goroutine (main.sideWork) whose result is folded in.  At the
//	  bottom the 4 park on a channel ("chan receive", created by
//	  main.recurseRound) while main forces a GC (which scans their deep
//	  stacks), then they unwind, every frame checking its locals and folding
//	  them into a checksum that is checked against the same sum computed
//	  without recursion.  A mismatch prints "goleaks: recursion: ..." on
//	  stderr and exits 1.  At the end it prints on stdout
//	  "checksum <16 hex digits> rounds R depth D" (R = 10 * N), the same
//	  for any speed: there are always exactly 10 * N rounds (a round taking
//	  longer than its 100 ms only delays the next ones).
//
//	preblock: the pool, then main locks the mutex, calls main.leakySend 10
//	  times and main.lockers(6); 300 ms later (and once
//	  runtime.NumGoroutine() is 21) "ready" is printed, then main sleeps
//	  until killed.  Exactly: 10 in "chan send" (main.leakySend), 6 in
//	  "semacquire" (main.lockers), 4 pool, main in "sleep": 21 goroutines.
//
//	version: prints runtime.Version() (e.g. go1.19.8) and exits.
//
// Go 1.19 names to expect: a closure started with go func() {...}() is
// main.<function>.func1 (numbered in source order within the function);
// go f(args) runs f under a compiler-made wrapper closure,
// main.<function>.funcN, which the traceback shows below f; either way the
// goroutine is "created by main.<function>".  The main goroutine has no
// "created by" in a dump.  ELF .symtab names assembly functions with an
// ABI suffix (runtime.goexit.abi0), the pclntab and the runtime without.
// Go 1.20 and later name the mutex and WaitGroup waits "sync.Mutex.Lock"
// and "sync.WaitGroup.Wait" instead of "semacquire"; Go 1.21 and later
// name the go f(args) wrappers main.<function>.gowrapN.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	period   = 100 * time.Millisecond
	poolSize = 4
)

var (
	seconds = flag.Int("seconds", 4, "run the pattern for `N` seconds")
	hold    = flag.Int("hold", 0, "then sleep `N` seconds before exiting")
	forever = flag.Bool("forever", false, "then sleep until killed")
	depth   = flag.Int("depth", 10000, "recursion: depth of each goroutine")
)

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "goleaks: "+format+"\n", args...)
	os.Exit(1)
}

func ready() {
	// os.Stdout is not buffered: the write is the flush.
	if _, err := os.Stdout.WriteString("ready\n"); err != nil {
		die("writing ready: %v", err)
	}
}

func sleepForever() {
	for {
		time.Sleep(time.Hour)
	}
}

// steady calls f(0) .. f(n-1), f(i) at start + i * every.
func steady(n int, every time.Duration, f func(i int)) {
	start := time.Now()
	for i := 0; i < n; i++ {
		if d := time.Until(start.Add(time.Duration(i) * every)); d > 0 {
			time.Sleep(d)
		}
		f(i)
	}
}

// ---------------------------------------------------------------------------
// the control: a fixed pool, idle after one job each

var (
	jobs     = make(chan int)
	poolWork int64
)

//go:noinline
func startPool() {
	for i := 0; i < poolSize; i++ {
		go worker(i, jobs)
	}
	for i := 0; i < poolSize; i++ {
		jobs <- i
	}
}

//go:noinline
func worker(id int, jobs <-chan int) {
	for j := range jobs {
		atomic.AddInt64(&poolWork, int64(j+id))
	}
}

// ---------------------------------------------------------------------------
// chansend

//go:noinline
func leakySend(v int) bool {
	ch := make(chan int)
	go func() {
		ch <- v
	}()
	// The caller has given up waiting for the result: nobody ever
	// receives from ch (deterministically so: no select, no race).
	return false
}

// ---------------------------------------------------------------------------
// chanrecv

//go:noinline
func startConsumer() chan<- int {
	ch := make(chan int)
	go consume(ch)
	return ch // dropped by the caller, never closed
}

//go:noinline
func consume(ch <-chan int) int {
	n := 0
	for v := range ch {
		n += v
	}
	return n
}

// ---------------------------------------------------------------------------
// mutex and waitgroup

var (
	held  sync.Mutex     // locked by main for good (mutex, preblock)
	never sync.WaitGroup // Add(1) in main, never Done
)

//go:noinline
func lockers(n int) {
	for i := 0; i < n; i++ {
		go func() {
			held.Lock()
			held.Unlock() // never reached
		}()
	}
}

//go:noinline
func waiters(n int) {
	for i := 0; i < n; i++ {
		go func() {
			never.Wait()
		}()
	}
}

// ---------------------------------------------------------------------------
// httpbody

var (
	body      = []byte(strings.Repeat("leaktop goroutine test body\n", 37)) // 1036 B
	responses []*http.Response
)

func serveBody(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write(body)
}

//go:noinline
func startServer() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		die("listen: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(serveBody)}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/"
}

//go:noinline
func fetchNoClose(c *http.Client, url string) {
	resp, err := c.Get(url)
	if err != nil {
		die("GET %s: %v", url, err)
	}
	// Kept, never read, never closed: the connection stays busy.
	responses = append(responses, resp)
}

// ---------------------------------------------------------------------------
// churn

var churned int64

//go:noinline
func churnAlloc(round int) int {
	sum := 0
	for i := 0; i < 64; i++ {
		b := make([]byte, 1024+(i*37+round)%4096)
		b[len(b)-1] = byte(i)
		sum += len(b) + int(b[len(b)-1])
	}
	return sum
}

//go:noinline
func churnBurst(round int, wg *sync.WaitGroup) {
	atomic.AddInt64(&churned, int64(churnAlloc(round)))
	wg.Done()
}

//go:noinline
func churnRound(round int) {
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go churnBurst(round+i, &wg)
	}
	atomic.AddInt64(&churned, int64(churnAlloc(round)))
	wg.Wait()
}

// ---------------------------------------------------------------------------
// recursion

const (
	frameWords = 128 // 1 KB of locals in every main.descend frame
	deepPerRnd = 4
	allocEvery = 1000
)

func mix(seed, d uint64, i int) uint64 {
	x := seed ^ d*0x9e3779b97f4a7c15 ^ uint64(i+1)*0xbf58476d1ce4e5b9
	x ^= x >> 31
	x *= 0x94d049bb133111eb
	x ^= x >> 29
	return x
}

func step(s, v uint64) uint64 {
	return (s^v)*0x100000001b3 + 1
}

func keepLen(d uint64) int {
	if d%allocEvery != 0 {
		return 0
	}
	return 8 + int(d%64)
}

func sideValue(seed uint64) uint64 {
	return mix(seed, 0xfffff, 7)
}

type dive struct {
	seed    uint64
	top     uint64
	reached chan<- struct{}
	park    <-chan struct{}
	side    chan uint64
}

//go:noinline
func sideWork(seed uint64, out chan<- uint64) {
	out <- sideValue(seed)
}

//go:noinline
func descend(r *dive, d uint64) uint64 {
	var local [frameWords]uint64
	for i := range local {
		local[i] = mix(r.seed, d, i)
	}
	var keep []uint64
	if n := keepLen(d); n > 0 {
		keep = make([]uint64, n)
		for i := range keep {
			keep[i] = mix(r.seed, d, frameWords+i)
		}
	}
	var s uint64
	if d == 0 {
		r.reached <- struct{}{}
		<-r.park // parked at full depth while main forces a GC
		s = 1
	} else {
		if d == r.top/2 {
			go sideWork(r.seed, r.side) // a go statement from deep down
		}
		s = descend(r, d-1)
	}
	for i := range local {
		if local[i] != mix(r.seed, d, i) {
			die("recursion: seed %#x depth %d: local[%d] is %#x, want %#x",
				r.seed, d, i, local[i], mix(r.seed, d, i))
		}
		s = step(s, local[i])
	}
	for i := range keep {
		if keep[i] != mix(r.seed, d, frameWords+i) {
			die("recursion: seed %#x depth %d: heap word %d is %#x",
				r.seed, d, i, keep[i])
		}
		s = step(s, keep[i])
	}
	return s
}

// expected is what a dive with seed and top returns, without recursion.
func expected(seed, top uint64) uint64 {
	s := uint64(1)
	for d := uint64(0); d <= top; d++ {
		for i := 0; i < frameWords; i++ {
			s = step(s, mix(seed, d, i))
		}
		for i := 0; i < keepLen(d); i++ {
			s = step(s, mix(seed, d, frameWords+i))
		}
	}
	return s ^ sideValue(seed)
}

//go:noinline
func deepWorker(r *dive, out *uint64, wg *sync.WaitGroup) {
	s := descend(r, r.top)
	*out = s ^ <-r.side
	wg.Done()
}

//go:noinline
func recurseRound(round int, top uint64) uint64 {
	reached := make(chan struct{}, deepPerRnd)
	park := make(chan struct{})
	var results [deepPerRnd]uint64
	var wg sync.WaitGroup
	for g := 0; g < deepPerRnd; g++ {
		r := &dive{
			seed:    uint64(round)<<8 | uint64(g),
			top:     top,
			reached: reached,
			park:    park,
			side:    make(chan uint64, 1),
		}
		wg.Add(1)
		go deepWorker(r, &results[g], &wg)
	}
	for g := 0; g < deepPerRnd; g++ {
		<-reached
	}
	runtime.GC() // scans the parked deep stacks
	close(park)
	wg.Wait()
	sum := uint64(round)
	for g := 0; g < deepPerRnd; g++ {
		seed := uint64(round)<<8 | uint64(g)
		if want := expected(seed, top); results[g] != want {
			die("recursion: round %d goroutine %d: checksum %#x, want %#x",
				round, g, results[g], want)
		}
		sum = step(sum, results[g])
	}
	return sum
}

// ---------------------------------------------------------------------------
// heapgrow: live heap that only grows (a global map used as a cache, never
// pruned) beside garbage churn of the same volume.
//
//	Every step main.remember adds 100 slices of 4096 bytes to the global
//	map cache (409,600 bytes a step, 4 MB a second, 16 MB with the
//	defaults), and main.garbage allocates and drops as many: in-use heap
//	grows at main.remember only.  Two runtime.GC() calls end the pattern, so
//	that every allocation is counted by the heap profile.

var cache = map[int][]byte{}

//go:noinline
func remember(step int) {
	for j := 0; j < 100; j++ {
		cache[step*100+j] = make([]byte, 4096)
	}
}

var sink []byte

var tails [][]byte

//go:noinline
func readChunk(step int) {
	buf := make([]byte, 512<<10)
	for i := range buf {
		buf[i] = byte(step + i)
	}
	tails = append(tails, buf[len(buf)-2:]) // retains all 512 KiB
}

//go:noinline
func garbage() {
	for j := 0; j < 100; j++ {
		sink = make([]byte, 4096)
	}
}

// ---------------------------------------------------------------------------

func main() {
	if len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-") {
		fmt.Fprintln(os.Stderr, "usage: goleaks chansend|chanrecv|mutex|"+
			"waitgroup|httpbody|heapgrow|subslice|churn|recursion|preblock|version "+
			"[--seconds N] [--hold N] [--forever] [--depth N]")
		os.Exit(2)
	}
	mode := os.Args[1]
	flag.CommandLine.Init("goleaks "+mode, flag.ExitOnError)
	flag.CommandLine.Parse(os.Args[2:])
	if flag.NArg() > 0 || *seconds < 0 || *hold < 0 || *depth < 2 {
		flag.Usage()
		os.Exit(2)
	}
	steps := 10 * *seconds
	never.Add(1)

	switch mode {
	case "version":
		fmt.Println(runtime.Version())
		return
	case "preblock":
		startPool()
		held.Lock()
		for i := 0; i < 10; i++ {
			leakySend(i)
		}
		lockers(6)
		time.Sleep(300 * time.Millisecond)
		for i := 0; runtime.NumGoroutine() != 1+poolSize+10+6; i++ {
			if i == 100 {
				die("preblock: %d goroutines, want 21",
					runtime.NumGoroutine())
			}
			time.Sleep(10 * time.Millisecond)
		}
		ready()
		sleepForever()
	}

	startPool()
	var run func()
	switch mode {
	case "chansend":
		run = func() { steady(steps, period, func(i int) { leakySend(i) }) }
	case "chanrecv":
		run = func() {
			steady(steps, period, func(int) { startConsumer() })
		}
	case "mutex":
		held.Lock()
		run = func() { steady(steps, period, func(int) { lockers(1) }) }
	case "waitgroup":
		run = func() { steady(steps, period, func(int) { waiters(1) }) }
	case "httpbody":
		url := startServer()
		client := &http.Client{Transport: &http.Transport{
			DisableKeepAlives: true,
		}}
		run = func() {
			steady(steps, period, func(int) { fetchNoClose(client, url) })
		}
	case "heapgrow":
		run = func() {
			steady(steps, period, func(i int) {
				remember(i)
				garbage()
			})
			// Heap profiles count an allocation once two GC cycles
			// have passed over it (runtime/mprof.go): run them, as
			// pprof's docs advise before a heap profile.
			runtime.GC()
			runtime.GC()
		}
	case "subslice":
		debug.SetGCPercent(800)
		run = func() { steady(steps, period, readChunk) }
	case "churn":
		steps = 100 * *seconds
		run = func() { steady(steps, 10*time.Millisecond, churnRound) }
	case "recursion":
		top := uint64(*depth)
		run = func() {
			sum := uint64(0)
			steady(steps, period, func(i int) {
				sum = step(sum, recurseRound(i, top))
			})
			fmt.Printf("checksum %016x rounds %d depth %d\n", sum, steps,
				top)
		}
	default:
		die("unknown mode %q", mode)
	}
	ready()
	run()
	fmt.Fprintf(os.Stderr, "goleaks %s: pattern over after %d steps, %d "+
		"goroutines\n", mode, steps, runtime.NumGoroutine())
	if *forever {
		sleepForever()
	}
	time.Sleep(time.Duration(*hold) * time.Second)
}
