/*
 * skyengine listener notes. The browser plugin adds this script to every
 * new document of a tab (Page.addScriptToEvaluateOnNewDocument, in the
 * page's own world, before any of the site's scripts run) and calls it
 * with a random token. It notes which elements get a click-like
 * listener (addEventListener, as jQuery and frameworks add them, or an
 * onclick property), because the page script, which runs in an isolated
 * world, cannot see listeners of the site's world.
 *
 * It writes nothing into the DOM and defines no global. The page script
 * asks with an event named <token>q; the answer is one event <token>m
 * dispatched on each noted element still in the document. Without the
 * token a page can neither read the notes nor forge one; the builtins
 * used here are taken before the site can replace them.
 */
(function (token) {
	'use strict';
	const apply = Reflect.apply;
	const ET = EventTarget.prototype;
	const add = ET.addEventListener;
	const dispatch = ET.dispatchEvent;
	const getter = (proto, name) =>
		Object.getOwnPropertyDescriptor(proto, name).get;
	const nodeType = getter(Node.prototype, 'nodeType');
	const connected = getter(Node.prototype, 'isConnected');
	const rootOf = Node.prototype.getRootNode;
	const modeOf = getter(ShadowRoot.prototype, 'mode');
	const deref = WeakRef.prototype.deref;
	const setHas = Set.prototype.has;
	const weakHas = WeakSet.prototype.has;
	const weakAdd = WeakSet.prototype.add;
	const WR = WeakRef, Ev = Event, Str = String;
	const doc = document;
	// what a person's click or tap fires; not hover, scroll, focus, keys
	const TYPES = new Set(['click', 'dblclick', 'auxclick', 'mousedown',
		'mouseup', 'pointerdown', 'pointerup', 'touchstart', 'touchend']);
	const seen = new WeakSet();
	let refs = [];

	function note(t, type) {
		try {
			if (!apply(setHas, TYPES, [Str(type)]) ||
			    apply(weakHas, seen, [t]) ||
			    apply(nodeType, t, []) !== 1)
				return;
			apply(weakAdd, seen, [t]);
			refs[refs.length] = new WR(t);
		} catch (e) { /* not an element */ }
	}

	ET.addEventListener = new Proxy(add, {
		apply(f, self, args) {
			if (args.length > 1 && args[1])
				note(self, args[0]);
			return apply(f, self, args);
		},
	});
	const HP = HTMLElement.prototype;
	for (const type of ['click', 'mousedown', 'pointerdown']) {
		const d = Object.getOwnPropertyDescriptor(HP, 'on' + type);
		if (!d || !d.set)
			continue;
		const set = d.set;
		d.set = new Proxy(set, {
			apply(f, self, args) {
				if (args[0])
					note(self, type);
				return apply(f, self, args);
			},
		});
		Object.defineProperty(HP, 'on' + type, d);
	}

	function shadowMode(root) {
		try {
			return apply(modeOf, root, []);
		} catch (e) {
			return ''; // not a shadow root
		}
	}

	const light = new Ev(token + 'm');
	const shadow = new Ev(token + 'm', {composed: true});
	function answer() {
		const keep = [];
		for (let i = 0; i < refs.length; i++) {
			const el = apply(deref, refs[i], []);
			if (!el)
				continue; // collected: forget it
			keep[keep.length] = refs[i];
			if (!apply(connected, el, []))
				continue;
			const root = apply(rootOf, el, []);
			if (root === doc)
				apply(dispatch, el, [light]);
			else if (shadowMode(root) === 'open')
				apply(dispatch, el, [shadow]);
		}
		refs = keep;
	}
	apply(add, window, [token + 'q', answer, true]);

	/* --- activity since the document started, for settle ------------
	 * The page script comes later (at the first settle or snapshot) and
	 * cannot see what happened before it, nor the site's timers. So note
	 * here, from the start: when the DOM last changed, and which short
	 * timers (setTimeout of at most SOON ms) are pending. A timer set
	 * from a timer's callback again and again is a loop (an animation,
	 * a poll), not content on its way: from the third link of a chain
	 * on it is not counted. Asked with <token>t, the answer is one
	 * CustomEvent <token>u on the document whose detail is the text
	 * "<ms since the last DOM change>,<ms until the last pending short
	 * timer fires>,<pending short timers>". */
	const SOON = 1500, LOOP = 2;
	const now = performance.now.bind(performance);
	const MO = MutationObserver, CE = CustomEvent, Mp = Map;
	const observe = MO.prototype.observe;
	const mapSet = Map.prototype.set, mapDel = Map.prototype.delete;
	const mapVals = Map.prototype.values;
	let lastChange = now();
	try {
		const mo = new MO((recs) => {
			for (let i = 0; i < recs.length; i++)
				if (recs[i].type !== 'attributes' ||
				    recs[i].attributeName !== 'style') {
					lastChange = now();
					return;
				}
		});
		apply(observe, mo, [doc, {childList: true, subtree: true,
			attributes: true, characterData: true}]);
	} catch (e) { /* no observer: the page script's own counts */ }

	const pending = new Mp();
	let depth = 0;
	const setT = window.setTimeout, clearT = window.clearTimeout;
	window.setTimeout = new Proxy(setT, {
		apply(f, self, args) {
			const fn = args[0], ms = +args[1] || 0;
			const d = depth + 1;
			if (typeof fn !== 'function')
				return apply(f, self, args);
			const counted = ms <= SOON && d <= LOOP;
			const due = now() + ms;
			let id = 0;
			args[0] = function () {
				if (counted)
					apply(mapDel, pending, [id]);
				const was = depth;
				depth = d;
				try {
					return apply(fn, this, arguments);
				} finally {
					depth = was;
				}
			};
			id = apply(f, self, args);
			if (counted)
				apply(mapSet, pending, [id, due]);
			return id;
		},
	});
	window.clearTimeout = new Proxy(clearT, {
		apply(f, self, args) {
			apply(mapDel, pending, [args[0]]);
			return apply(f, self, args);
		},
	});
	function activity() {
		const t = now();
		let until = 0, n = 0;
		const it = apply(mapVals, pending, []);
		for (let r = it.next(); !r.done; r = it.next()) {
			n++;
			if (r.value - t > until)
				until = r.value - t;
		}
		apply(dispatch, doc, [new CE(token + 'u', {detail:
			Str(Math.round(t - lastChange)) + ',' +
			Str(Math.ceil(until)) + ',' + Str(n)})]);
	}
	apply(add, window, [token + 't', activity, true]);
})
