// Benchmark target: goroutine parks per second. Two goroutines pass a
// token over unbuffered channels N times (each pass parks one of them),
// while a third allocates 64 KiB slices (heap sampler load; not with a
// second argument "noalloc"); prints
// "ns_per_pass <value>".
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

var sink []byte

func main() {
	n := 1000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	stop := make(chan bool)
	alloc := len(os.Args) < 3 || os.Args[2] != "noalloc"
	go func() {
		if !alloc {
			return
		}
		for {
			select {
			case <-stop:
				return
			default:
				sink = make([]byte, 64<<10)
			}
		}
	}()
	start := time.Now()
	v := 0
	for i := 0; i < n; i++ {
		ping <- v
		v = <-pong
	}
	el := time.Since(start)
	close(stop)
	fmt.Printf("ns_per_pass %.1f\n", float64(el.Nanoseconds())/float64(n))
}
