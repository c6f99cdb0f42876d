package rights

import (
	"context"
	"time"
)

// TakeLease makes l the leader as Run would, without starting the sequencer and publisher, so
// that tests drive Integrate and Publish by hand under the lease's fence. It returns the epoch,
// or 0 when another process holds the lease.
func (l *Log) TakeLease(ctx context.Context) (int64, error) {
	sent := time.Now()
	epoch, err := l.tryAcquire(ctx)
	if err != nil || epoch == 0 {
		return epoch, err
	}
	l.setEpoch(epoch, sent.Add(l.lease))
	return epoch, nil
}
