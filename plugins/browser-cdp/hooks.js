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
	const mapGet = Map.prototype.get;
	const mapEntries = Map.prototype.entries;
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
	/* Work the site queued for the next frame, for an idle moment or
	 * for a message to itself (a scheduler yielding through a
	 * MessageChannel, as React's does) is content on its way too, as
	 * soon as a short timer: noted the same way, with the same rule for
	 * loops (an animation re-queues itself from its frame callback).
	 * Expected: a frame within FRAME ms, an idle callback within IDLE
	 * (or its own timeout, if shorter), a message at once. A note whose
	 * callback has not come STALE ms after it was due (a hidden frame),
	 * or a message no handler took within MSG_STALE (a port read by an
	 * event listener, which is not seen here), is dropped when asked. */
	const FRAME = 16, IDLE = 50, STALE = 200, MSG_STALE = 50;
	let seq = 0;
	function wrapQueue(name, cancelName, dueOf) {
		const q = window[name], c = window[cancelName];
		if (typeof q !== 'function')
			return;
		const keys = new Mp();
		window[name] = new Proxy(q, {
			apply(f, self, args) {
				const fn = args[0];
				if (typeof fn !== 'function')
					return apply(f, self, args);
				const d = depth + 1, key = 'q' + (++seq);
				const counted = d <= LOOP;
				let id = 0;
				args[0] = function () {
					apply(mapDel, pending, [key]);
					apply(mapDel, keys, [id]);
					const was = depth;
					depth = d;
					try {
						return apply(fn, this, arguments);
					} finally {
						depth = was;
					}
				};
				id = apply(f, self, args);
				if (counted) {
					apply(mapSet, pending, [key, now() + dueOf(args)]);
					apply(mapSet, keys, [id, key]);
				}
				return id;
			},
		});
		if (typeof c === 'function')
			window[cancelName] = new Proxy(c, {
				apply(f, self, args) {
					const key = apply(mapGet, keys, [args[0]]);
					if (key !== undefined) {
						apply(mapDel, pending, [key]);
						apply(mapDel, keys, [args[0]]);
					}
					return apply(f, self, args);
				},
			});
	}
	wrapQueue('requestAnimationFrame', 'cancelAnimationFrame', () => FRAME);
	wrapQueue('requestIdleCallback', 'cancelIdleCallback', (args) => {
		const o = args[1], t = o && +o.timeout;
		return t > 0 && t < IDLE ? t : IDLE;
	});
	/* A message posted to a port is noted until a message handler of a
	 * port of this document runs (the site's onmessage or listener). */
	try {
		const MPp = MessagePort.prototype;
		const post = MPp.postMessage;
		let first = 0, next = 0; /* notes 'm<first>'..'m<next-1>' */
		const handled = () => {
			if (first < next)
				apply(mapDel, pending, ['m' + (first++)]);
		};
		MPp.postMessage = new Proxy(post, {
			apply(f, self, args) {
				if (depth + 1 <= LOOP) {
					apply(mapSet, pending, ['m' + (next++), now()]);
				}
				return apply(f, self, args);
			},
		});
		const d = Object.getOwnPropertyDescriptor(MPp, 'onmessage');
		if (d && d.set) {
			const set = d.set;
			d.set = new Proxy(set, {
				apply(f, self, args) {
					const fn = args[0];
					if (typeof fn === 'function')
						args[0] = function () {
							handled();
							return apply(fn, this, arguments);
						};
					return apply(f, self, args);
				},
			});
			Object.defineProperty(MPp, 'onmessage', d);
		}
	} catch (e) { /* no MessagePort */ }

	function activity() {
		const t = now();
		let until = 0, n = 0;
		const it = apply(mapEntries, pending, []);
		for (let r = it.next(); !r.done; r = it.next()) {
			const key = r.value[0], due = r.value[1];
			if (typeof key === 'string' &&
			    due + (key[0] === 'm' ? MSG_STALE : STALE) < t) {
				apply(mapDel, pending, [key]);
				continue;
			}
			n++;
			if (due - t > until)
				until = due - t;
		}
		apply(dispatch, doc, [new CE(token + 'u', {detail:
			Str(Math.round(t - lastChange)) + ',' +
			Str(Math.ceil(until)) + ',' + Str(n)})]);
	}
	apply(add, window, [token + 't', activity, true]);
})
