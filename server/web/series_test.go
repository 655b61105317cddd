package web

import (
	"math"
	"testing"
)

func TestDownsample(t *testing.T) {
	x := make([]int64, 10000)
	y := make([]float64, 10000)
	for i := range x {
		x[i], y[i] = int64(i), math.Sin(float64(i)/100)
	}
	y[5000] = 42 // a spike must survive
	y[7] = math.NaN()
	for _, c := range []struct {
		name      string
		from      int64
		max, want int
	}{
		{"all fit", 9990, 100, 10},
		{"buckets", 0, 100, 100},
		{"odd max", 0, 51, 50},
		{"from the middle", 5000, 1000, 1000},
	} {
		t.Run(c.name, func(t *testing.T) {
			pts := downsample(x, y, c.from, c.max)
			if len(pts) != c.want {
				t.Fatalf("%d points, want %d", len(pts), c.want)
			}
			spike := false
			for i, p := range pts {
				if p[0] < float64(c.from) || math.IsNaN(p[1]) {
					t.Fatalf("point %v", p)
				}
				if i > 0 && p[0] <= pts[i-1][0] {
					t.Fatalf("x not increasing at %d", i)
				}
				spike = spike || p[1] == 42
			}
			if c.from <= 5000 && !spike {
				t.Error("the spike was lost")
			}
		})
	}
	if got := downsample(nil, nil, 0, 10); len(got) != 0 {
		t.Errorf("empty: %v", got)
	}
}

func TestInferCSV(t *testing.T) {
	for _, c := range []struct {
		name, csv, want string
	}{
		{"types", "a,b,c,d,e\n1,1.5,True,x,\n2,2,False,y,\n", "a:int64 b:double c:bool d:string e:double"},
		{"int with a gap is double", "a,b\n1,x\n,y\n3,z\n", "a:double b:string"},
		{"mixed text", "a\n1\nx\n", "a:string"},
		{"bool and number", "a\nTrue\n1\n", "a:string"},
		{"header only", "a,b\n", "a:double b:double"},
		{"bom", "\ufeffa\n1\n", "a:int64"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs, err := inferCSV([]byte(c.csv))
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for i, f := range fs {
				if i > 0 {
					got += " "
				}
				got += f.Name + ":" + f.Type.String()
			}
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestParseLogs(t *testing.T) {
	text := "2026-01-01T00:00:00.000Z deployed: learning from history\n2026-01-01T00:00:01.000Z version 1 (history): learned 5\n" +
		"2026-01-01T00:00:02.000Z error: disk full\n2026-01-01T00:00:03.000Z paused\n2026-01-01T00:00:04.000Z rolled back to version 1\n" +
		"2026-01-01T00:00:05.000Z resumed from version 2 at input offset 1"
	ls := parseLogs(text)
	want := []string{"deploy", "version", "error", "state", "rollback", "deploy"}
	if len(ls) != len(want) {
		t.Fatalf("%d lines", len(ls))
	}
	for i, l := range ls {
		if l.Kind != want[i] || l.Time == "" {
			t.Errorf("line %d: %+v, want kind %s", i, l, want[i])
		}
	}
	if got := newLines(ls, ls[3], 4); len(got) != 2 || got[0].Kind != "rollback" {
		t.Errorf("new lines after the 4th: %+v", got)
	}
	if got := newLines(ls, ls[5], 6); len(got) != 0 {
		t.Errorf("nothing new: %+v", got)
	}
}
