package template

import (
	"fmt"
	"slices"
	"strings"
)

// checkReferences makes sure every Ref, GetAtt, ${}, condition and mapping
// the template names exists, and that no resource (or condition) depends on
// itself, so a broken reference stops the runner at start.
func (t *Template) checkReferences() error {
	for _, name := range sortedKeys(t.Parameters) {
		if _, ok := t.Resources[name]; ok {
			return &Error{Resource: name, Reason: "a parameter and a resource have the same logical ID"}
		}
	}
	resourceDeps := map[string]map[string]string{}
	for _, id := range sortedKeys(t.Resources) {
		r := t.Resources[id]
		props := r.Properties
		for _, fn := range t.Functions {
			if fn.LogicalID == id {
				props = fn.Properties // with Globals merged in
			}
		}
		c := &refChecker{t: t, res: id, deps: map[string]string{}}
		if err := c.walk(props, "Properties"); err != nil {
			return err
		}
		for _, d := range r.DependsOn {
			if _, ok := t.Resources[d]; !ok {
				return &Error{Resource: id, Property: "DependsOn", Reason: fmt.Sprintf("no resource %q", d)}
			}
			c.dep(d, "DependsOn")
		}
		if r.Condition != "" {
			if _, ok := t.Conditions[r.Condition]; !ok {
				return &Error{Resource: id, Property: "Condition", Reason: fmt.Sprintf("no condition %q in Conditions", r.Condition)}
			}
		}
		resourceDeps[id] = c.deps
	}
	conditionDeps := map[string]map[string]string{}
	for _, name := range sortedKeys(t.Conditions) {
		c := &refChecker{t: t, res: "Conditions", conditions: true, deps: map[string]string{}}
		if err := c.walk(t.Conditions[name], name); err != nil {
			return err
		}
		conditionDeps[name] = c.deps
	}
	for _, k := range sortedKeys(t.Outputs) {
		c := &refChecker{t: t, res: "Outputs"}
		out, _ := t.Outputs[k].(map[string]any)
		if err := c.walk(out["Value"], k+".Value"); err != nil {
			return err
		}
		if err := c.walk(out["Export"], k+".Export"); err != nil {
			return err
		}
		if cond, ok := out["Condition"].(string); ok {
			if _, ok := t.Conditions[cond]; !ok {
				return &Error{Resource: "Outputs", Property: k + ".Condition", Reason: fmt.Sprintf("no condition %q in Conditions", cond)}
			}
		}
	}
	if cycle := findCycle(resourceDeps); cycle != nil {
		return &Error{Resource: cycle[0], Property: resourceDeps[cycle[0]][cycle[1]], Reason: "circular dependency: " + strings.Join(cycle, " -> ")}
	}
	if cycle := findCycle(conditionDeps); cycle != nil {
		return &Error{Resource: "Conditions", Property: cycle[0], Reason: "circular condition: " + strings.Join(cycle, " -> ")}
	}
	return nil
}

// refChecker walks one resource's properties (or one condition, or one
// output) and records what it depends on.
type refChecker struct {
	t          *Template
	res        string
	conditions bool              // walking Conditions: Ref names parameters only
	deps       map[string]string // resource (or condition) -> where it is first named
}

func (c *refChecker) fail(where, reason string) error {
	return &Error{Resource: c.res, Property: where, Reason: reason}
}

func (c *refChecker) dep(name, where string) {
	if c.deps == nil {
		return
	}
	if _, ok := c.deps[name]; !ok {
		c.deps[name] = where
	}
}

func (c *refChecker) walk(v any, where string) error {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				if handled, err := c.intrinsic(k, arg, where); handled || err != nil {
					return err
				}
			}
		}
		for _, k := range sortedKeys(v) {
			if err := c.walk(v[k], where+"."+k); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if err := c.walk(e, fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *refChecker) intrinsic(k string, arg any, where string) (handled bool, err error) {
	switch k {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return true, c.fail(where, "!Ref takes a name")
		}
		return true, c.ref(name, where, "")
	case "Fn::GetAtt":
		name, attr, err := getAttArgs(arg)
		if err != nil {
			return true, c.fail(where, err.Error())
		}
		return true, c.getAtt(name, attr, where, "")
	case "Fn::Sub":
		tmpl, vars, err := subArgs(arg)
		if err != nil {
			return true, c.fail(where, err.Error())
		}
		for _, name := range subNames(tmpl) {
			if _, ok := vars[name]; ok {
				continue
			}
			if r, a, ok := cutAttr(name); ok {
				err = c.getAtt(r, a, where, "!Sub ")
			} else {
				err = c.ref(name, where, "!Sub ")
			}
			if err != nil {
				return true, err
			}
		}
		for _, k := range sortedKeys(vars) {
			if err := c.walk(vars[k], where+"."+k); err != nil {
				return true, err
			}
		}
		return true, nil
	case "Fn::If":
		l, ok := arg.([]any)
		if !ok || len(l) != 3 {
			return true, c.fail(where, "!If takes [condition, value if true, value if false]")
		}
		name, _ := l[0].(string)
		if _, ok := c.t.Conditions[name]; !ok {
			return true, c.fail(where, fmt.Sprintf("!If names condition %q, which is not in Conditions", name))
		}
		if err := c.walk(l[1], where); err != nil {
			return true, err
		}
		return true, c.walk(l[2], where)
	case "Condition":
		name, ok := arg.(string)
		if !ok || !c.conditions {
			return false, nil // an ordinary key that happens to be called Condition
		}
		if _, ok := c.t.Conditions[name]; !ok {
			return true, c.fail(where, fmt.Sprintf("!Condition names %q, which is not in Conditions", name))
		}
		c.dep(name, where)
		return true, nil
	case "Fn::FindInMap":
		l, ok := arg.([]any)
		if !ok || len(l) != 3 {
			return true, c.fail(where, "!FindInMap takes [map, key, key]")
		}
		if name, ok := l[0].(string); ok {
			if _, ok := c.t.Mappings[name]; !ok {
				return true, c.fail(where, fmt.Sprintf("!FindInMap names %q, which is not in Mappings", name))
			}
		}
		return true, c.walk(l, where)
	}
	return false, nil
}

func (c *refChecker) ref(name, where, prefix string) error {
	if err := c.t.checkRef(name); err != nil {
		return c.fail(where, prefix+err.Error())
	}
	if _, ok := c.t.Resources[name]; ok {
		if c.conditions {
			return c.fail(where, prefix+fmt.Sprintf("a condition may refer to parameters only, not to resource %q", name))
		}
		c.dep(name, where)
	}
	return nil
}

func (c *refChecker) getAtt(name, attr, where, prefix string) error {
	if c.conditions {
		return c.fail(where, prefix+"a condition may not use !GetAtt")
	}
	if err := c.t.checkGetAtt(name, attr); err != nil {
		return c.fail(where, prefix+err.Error())
	}
	c.dep(name, where)
	return nil
}

func (t *Template) checkRef(name string) error {
	if pseudoParams[name] {
		return nil
	}
	if _, ok := t.Parameters[name]; ok {
		return nil
	}
	if _, ok := t.Resources[name]; ok {
		return nil
	}
	return fmt.Errorf("refers to %q, which is neither a parameter nor a resource", name)
}

func (t *Template) checkGetAtt(name, attr string) error {
	r, ok := t.Resources[name]
	if !ok {
		return fmt.Errorf("!GetAtt %s.%s: no resource %q", name, attr, name)
	}
	if !getAttrs[r.Type][attr] {
		return fmt.Errorf("!GetAtt %s.%s: %s has no attribute %q that the runner can resolve", name, attr, r.Type, attr)
	}
	return nil
}

// findCycle returns a path n0 -> ... -> n0 in the graph, or nil.
func findCycle(graph map[string]map[string]string) []string {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(n string) []string
	visit = func(n string) []string {
		state[n] = active
		path = append(path, n)
		for _, m := range sortedKeys(graph[n]) {
			switch state[m] {
			case active:
				return append(slices.Clone(path[slices.Index(path, m):]), m)
			case unseen:
				if c := visit(m); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[n] = done
		return nil
	}
	for _, n := range sortedKeys(graph) {
		if state[n] == unseen {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}
