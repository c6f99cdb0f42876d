package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, c config)
	}{
		{name: "the issue's run by default", check: func(t *testing.T, c config) {
			if c.Users != 200 || c.Duration != 5*time.Minute || c.Instances != 3 || !c.Faults {
				t.Fatalf("defaults %+v, want 200 users for 5 minutes on 3 instances with faults", c)
			}
			// Faults spread over the run: the kill at 20 %, PostgreSQL at 45 %, MinIO at 70 % for 20 s.
			if c.KillAt != time.Minute || c.PGAt != 135*time.Second || c.MinIOAt != 210*time.Second || c.MinIODown != 20*time.Second {
				t.Fatalf("fault times %v %v %v %v", c.KillAt, c.PGAt, c.MinIOAt, c.MinIODown)
			}
			if c.RampUp != 15*time.Second || c.RestartAfter != 20*time.Second || c.Seed == 0 {
				t.Fatalf("ramp-up %v, restart after %v, seed %d", c.RampUp, c.RestartAfter, c.Seed)
			}
		}},
		{name: "a short run scales its fault times", args: []string{"-duration", "40s", "-users", "20"}, check: func(t *testing.T, c config) {
			if c.KillAt != 8*time.Second || c.PGAt != 18*time.Second || c.MinIOAt != 28*time.Second || c.MinIODown != 3*time.Second || c.RampUp != 2*time.Second {
				t.Fatalf("fault times %v %v %v %v, ramp-up %v", c.KillAt, c.PGAt, c.MinIOAt, c.MinIODown, c.RampUp)
			}
		}},
		{name: "explicit times are kept", args: []string{"-kill-at", "5s", "-minio-down", "7s", "-seed", "42"}, check: func(t *testing.T, c config) {
			if c.KillAt != 5*time.Second || c.MinIODown != 7*time.Second || c.Seed != 42 {
				t.Fatalf("%v %v %d", c.KillAt, c.MinIODown, c.Seed)
			}
		}},
		{name: "too few users", args: []string{"-users", "2"}, wantErr: "at least 3"},
		{name: "one instance cannot lose its leader", args: []string{"-instances", "1"}, wantErr: "at least 2"},
		{name: "unknown PostgreSQL stop mode", args: []string{"-pg-mode", "smart"}, wantErr: "-pg-mode"},
		{name: "unknown MinIO mode", args: []string{"-minio-mode", "kill"}, wantErr: "-minio-mode"},
		{name: "a stray argument", args: []string{"now"}, wantErr: "unexpected argument"},
		{name: "a bad duration", args: []string{"-duration", "soon"}, wantErr: "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
