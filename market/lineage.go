package market

import "context"

// lineageDepth bounds how far a derivation tree is drawn each way.
const lineageDepth = 4

// LineageNode is one work in a derivation tree.
type LineageNode struct {
	ResourceRef
	Parents  []LineageNode `json:"parents,omitempty"`
	Children []LineageNode `json:"children,omitempty"`
}

// Lineage returns the derivation tree around a resource: the works it derives from, up to four
// generations back, and the published works derived from it, up to four generations on.
// Unpublished and taken-down works other than the root are left out.
func (m *Market) Lineage(ctx context.Context, id string) (LineageNode, error) {
	r, err := m.Resource(ctx, id)
	if err != nil {
		return LineageNode{}, err
	}
	root := LineageNode{ResourceRef: ResourceRef{ID: r.ID, Title: r.Meta.Title, Author: r.Author, Status: r.Status}}
	seen := map[string]bool{id: true}
	if root.Parents, err = m.lineage(ctx, id, true, lineageDepth, seen); err != nil {
		return root, err
	}
	root.Children, err = m.lineage(ctx, id, false, lineageDepth, seen)
	return root, err
}

func (m *Market) lineage(ctx context.Context, id string, up bool, depth int, seen map[string]bool) ([]LineageNode, error) {
	if depth == 0 {
		return nil, nil
	}
	where := "resources.id IN (SELECT resource_id FROM resource_parents WHERE parent_id = ?)"
	if up {
		where = "resources.id IN (SELECT parent_id FROM resource_parents WHERE resource_id = ?)"
	}
	refs, err := m.resourceRefs(ctx, where+" AND resources.published_version_id IS NOT NULL AND resources.status <> 'taken_down'", id)
	if err != nil {
		return nil, err
	}
	var out []LineageNode
	for _, ref := range refs {
		if seen[ref.ID] {
			continue
		}
		seen[ref.ID] = true
		n := LineageNode{ResourceRef: ref}
		if up {
			n.Parents, err = m.lineage(ctx, ref.ID, true, depth-1, seen)
		} else {
			n.Children, err = m.lineage(ctx, ref.ID, false, depth-1, seen)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}
