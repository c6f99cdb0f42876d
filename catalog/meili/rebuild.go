package meili

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"ziyuan/catalog"
)

// Index returns the UID of the index the engine serves.
func (e *Engine) Index() string { return e.opts.Index }

// sibling is an engine on another index of the same server with the same options (settings).
func (e *Engine) sibling(uid string) *Engine {
	opts := e.opts
	opts.Index = uid
	return &Engine{client: e.client, index: e.client.Index(uid), opts: opts}
}

// RebuildSteps are the caller's parts of a Rebuild.
type RebuildSteps struct {
	// Fill fills the new index, e.g. with catalog.Reindex. The engine it gets writes to the new
	// index, which exists with its settings and starts empty: its EnsureIndex does nothing and it
	// lists no IDs (there is nothing stale to remove). Required.
	Fill func(ctx context.Context, next catalog.Engine) error
	// Swapped runs once the new index is live, before the old one is deleted: the caller
	// re-delivers what the old index received while the new one was built. It runs even if ctx
	// was cancelled meanwhile, since a half-finished re-delivery would leave the live index
	// behind the database. Optional.
	Swapped func(ctx context.Context) error
}

// cleanupTimeout bounds the requests that clean up after a rebuild once ctx may be gone.
const cleanupTimeout = time.Minute

// Rebuild replaces the live index with a new one built beside it under the UID next, so that
// searches go on from the live index while the new one is built, then switch to it at once:
//
//  1. create next with the engine's settings; it must not exist (it may be another rebuild's);
//  2. fill it (steps.Fill) and wait until every task on it succeeded;
//  3. swap it with the live index (one Meilisearch task: both UIDs exchange their data at once);
//  4. run steps.Swapped;
//  5. delete the old data, which is now under the UID next.
//
// Until the swap succeeds the live index is never written to, and a failure deletes next again.
// When the outcome of the swap cannot be learnt (Meilisearch stopped answering), next is left
// alone and the error says how to tell which index is which.
//
// Workers that write to the live index meanwhile keep writing to its UID, so after the swap
// their changes reach the new data; the ones they applied during steps 1–3 went to the old data
// and are what steps.Swapped has to re-deliver.
func (e *Engine) Rebuild(ctx context.Context, next string, steps RebuildSteps) error {
	live := e.opts.Index
	if next == "" || next == live {
		return fmt.Errorf("meili: rebuild: the new index needs a UID other than %q", live)
	}
	if steps.Fill == nil {
		return errors.New("meili: rebuild: nothing fills the new index")
	}
	n := e.sibling(next)
	if err := n.create(ctx); err != nil {
		return fmt.Errorf("meili: rebuild: create the new index %s: %w; the live index %s is unchanged", next, err, live)
	}
	failed := func(step string, err error) error {
		err = fmt.Errorf("meili: rebuild: %s: %w; the live index %s is unchanged", step, err, live)
		if derr := n.dropAfter(ctx); derr != nil {
			return errors.Join(err, fmt.Errorf("meili: the new index %s could not be deleted (delete it by hand): %w", next, derr))
		}
		return err
	}
	if err := n.applySettings(ctx); err != nil {
		return failed("apply the settings to "+next, err)
	}
	if err := steps.Fill(ctx, building{n}); err != nil {
		return failed("fill "+next, err)
	}
	if err := n.Wait(ctx); err != nil {
		return failed("fill "+next, err)
	}
	if err := ctx.Err(); err != nil {
		return failed("before the swap", err)
	}

	ti, err := e.client.SwapIndexes(ctx, []*meilisearch.SwapIndexesParams{{Indexes: []string{live, next}}})
	if err != nil {
		werr := wrap("swap indexes", err)
		if errors.Is(werr, catalog.ErrUnavailable) {
			// The request may have reached the server and been enqueued.
			return swapUnknown(werr, live, next, "look for an indexSwap task: GET /tasks?types=indexSwap")
		}
		return failed("swap "+live+" and "+next, refusedSwap(werr))
	}
	// The outcome decides what may be deleted, so learn it even if ctx is cancelled.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	err = e.wait(wctx, ti.TaskUID)
	cancel()
	if err != nil {
		if errors.Is(err, catalog.ErrUnavailable) {
			return swapUnknown(err, live, next, fmt.Sprintf("see GET /tasks/%d", ti.TaskUID))
		}
		return failed("swap "+live+" and "+next, err)
	}

	var swappedErr error
	if steps.Swapped != nil {
		if err := steps.Swapped(context.WithoutCancel(ctx)); err != nil {
			swappedErr = fmt.Errorf("meili: rebuild: the new index is live, but after the swap: %w", err)
		}
	}
	if err := n.dropAfter(ctx); err != nil {
		return errors.Join(swappedErr, fmt.Errorf("meili: rebuild: the new index is live; the old one is left as %s "+
			"(delete it: DELETE /indexes/%s): %w", next, next, err))
	}
	return swappedErr
}

// swapUnknown is the error for a swap whose outcome could not be learnt.
func swapUnknown(err error, live, next, how string) error {
	return fmt.Errorf("%w; whether %s and %s were swapped is unknown (%s): if the swap succeeded, %s holds the old "+
		"documents and the steps after the swap did not run; if not, it holds the new ones. Delete %s once the outcome is known",
		err, live, next, how, next, next)
}

// refusedSwap explains the refusal that servers before Meilisearch v1.18 give every swap request of
// meilisearch-go v0.37, which always sends the "rename" field they do not know.
func refusedSwap(err error) error {
	var me *meilisearch.Error
	if errors.As(err, &me) && me.APIError.Code == meilisearch.APIErrCodeBadRequest && strings.Contains(me.APIError.Message, "rename") {
		return fmt.Errorf("%w (Meilisearch before v1.18 refuses the `rename` field of the swap request: upgrade it, or rebuild in place)", err)
	}
	return err
}

// create creates the index and waits for it; unlike EnsureIndex, an existing index is an error.
func (e *Engine) create(ctx context.Context) error {
	ti, err := e.client.CreateIndex(ctx, &meilisearch.IndexConfig{Uid: e.opts.Index, PrimaryKey: "id"})
	if err != nil {
		return wrap("create index", err)
	}
	err = e.wait(ctx, ti.TaskUID)
	if err != nil && strings.Contains(err.Error(), "index_already_exists") {
		return fmt.Errorf("%w (another rebuild may be running, or an interrupted one left it: delete it once none runs)", err)
	}
	return err
}

func (e *Engine) applySettings(ctx context.Context) error {
	ti, err := e.index.UpdateSettings(ctx, e.Settings())
	if err != nil {
		return wrap("update settings", err)
	}
	return e.wait(ctx, ti.TaskUID)
}

// dropAfter deletes the index and waits for it, even when ctx is cancelled (a rebuild cleaning
// up after Ctrl+C).
func (e *Engine) dropAfter(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	return e.DeleteIndex(ctx)
}

// building is the new index as RebuildSteps.Fill sees it. It holds the engine as a
// catalog.Engine so that ListIDs is hidden: catalog.Reindex has no reason to page through an
// index that started empty.
type building struct{ catalog.Engine }

// EnsureIndex has nothing to do: Rebuild created the index with its settings.
func (building) EnsureIndex(context.Context) error { return nil }
