package template

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// shortTags maps CloudFormation's YAML short forms to their long (JSON) names.
var shortTags = map[string]string{
	"!Ref":         "Ref",
	"!GetAtt":      "Fn::GetAtt",
	"!Sub":         "Fn::Sub",
	"!Join":        "Fn::Join",
	"!Select":      "Fn::Select",
	"!Split":       "Fn::Split",
	"!If":          "Fn::If",
	"!Equals":      "Fn::Equals",
	"!Not":         "Fn::Not",
	"!And":         "Fn::And",
	"!Or":          "Fn::Or",
	"!FindInMap":   "Fn::FindInMap",
	"!Base64":      "Fn::Base64",
	"!GetAZs":      "Fn::GetAZs",
	"!ImportValue": "Fn::ImportValue",
	"!Condition":   "Condition",
}

// decoder turns YAML nodes into plain Go values. Aliases are expanded, so it
// guards against an alias that contains itself (which would recurse for
// ever) and against alias bombs (a few lines that expand to millions of
// nodes): budget is how many nodes it may still produce.
type decoder struct {
	expanding []*yaml.Node
	budget    int
}

// decodeYAML parses data and decodes its first document. The node budget
// grows with the input, so that aliases may repeat a part of the template a
// few times but not exponentially.
func decodeYAML(data []byte) (any, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	d := &decoder{budget: 16*len(data) + 4096}
	return d.node(&root)
}

// node turns a YAML node into plain Go values (map[string]any, []any,
// string, bool, int64, float64, nil), rewriting short intrinsic tags into the
// one-key maps CloudFormation's JSON form uses. Anything it cannot read is an
// error naming the line.
func (d *decoder) node(n *yaml.Node) (any, error) {
	d.budget--
	if d.budget < 0 {
		return nil, fmt.Errorf("line %d: the template expands to too many nodes (alias bomb?)", n.Line)
	}
	switch n.Kind {
	case 0:
		return nil, nil // empty input
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return d.node(n.Content[0])
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, fmt.Errorf("line %d: alias *%s names no anchor", n.Line, n.Value)
		}
		if slices.Contains(d.expanding, n.Alias) {
			return nil, fmt.Errorf("line %d: alias *%s refers to a node that contains it", n.Line, n.Value)
		}
		d.expanding = append(d.expanding, n.Alias)
		defer func() { d.expanding = d.expanding[:len(d.expanding)-1] }()
		return d.node(n.Alias)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		long, ok := shortTags[n.Tag]
		if !ok {
			return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
		}
		inner := *n
		inner.Tag = ""
		v, err := d.node(&inner)
		if err != nil {
			return nil, err
		}
		if long == "Fn::GetAtt" {
			if s, ok := v.(string); ok {
				resource, attr, found := strings.Cut(s, ".")
				if !found {
					return nil, fmt.Errorf("line %d: !GetAtt %q needs the form Resource.Attribute", n.Line, s)
				}
				v = []any{resource, attr}
			}
		}
		return map[string]any{long: v}, nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: YAML merge keys (<<) are not supported", k.Line)
			}
			if k.Kind != yaml.ScalarNode || (strings.HasPrefix(k.Tag, "!") && !strings.HasPrefix(k.Tag, "!!")) {
				return nil, fmt.Errorf("line %d: mapping keys must be plain strings", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: key %q appears twice", k.Line, k.Value)
			}
			v, err := d.node(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := d.node(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		return decodeScalar(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func decodeScalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return b, nil
	case "!!int":
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if err != nil {
			return n.Value, nil
		}
		return i, nil
	case "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			return n.Value, nil
		}
		return f, nil
	default:
		return n.Value, nil
	}
}
