/*
 * skyengine page script. The browser plugin evaluates this file in an
 * isolated world of every frame (Page.createIsolatedWorld), so the site's
 * own scripts can neither see nor tamper with it, and it never writes to
 * the site's DOM. It installs globalThis.__sky (the interface is listed in
 * docs/internals.md section 1 and docs/browser.md) and keeps its element
 * registry in globalThis.__skyState, which survives a re-install of a
 * newer script into the same world.
 */
(() => {
	'use strict';
	const VERSION = 1;
	const G = globalThis;

	const S = G.__skyState || (G.__skyState = {
		byEl: new WeakMap(),  // element -> id
		byId: new Map(),      // id -> WeakRef(element)
		next: 1,
		prefix: '',
		observer: null,
		observed: new WeakSet(),
		lastMutation: 0,
		mutations: 0,
		added: null,          // elements added since mark()
	});

	/* --- registry ------------------------------------------------------ */

	function idOf(el) {
		let id = S.byEl.get(el);
		if (id === undefined) {
			id = S.prefix + (S.next++);
			S.byEl.set(el, id);
			S.byId.set(id, new WeakRef(el));
		}
		return id;
	}

	function byId(id) {
		const r = S.byId.get(String(id));
		const el = r && r.deref();
		return el && el.isConnected ? el : null;
	}

	function sweep() {
		if (S.byId.size < 4096)
			return;
		for (const [id, r] of S.byId)
			if (!r.deref())
				S.byId.delete(id);
	}

	/* --- small helpers -------------------------------------------------- */

	const collapse = (s) => (s || '').replace(/\s+/g, ' ').trim();
	const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + '\u2026' : s);

	function parentOf(n) {
		if (n.parentNode && n.parentNode.nodeType === 11 && n.parentNode.host)
			return n.parentNode.host;
		return n.parentNode;
	}

	// a contains b, crossing shadow boundaries
	function composedContains(a, b) {
		for (let n = b; n; n = parentOf(n))
			if (n === a)
				return true;
		return false;
	}

	function deepHit(x, y) {
		let e = document.elementFromPoint(x, y);
		while (e && e.shadowRoot) {
			const inner = e.shadowRoot.elementFromPoint(x, y);
			if (!inner || inner === e)
				break;
			e = inner;
		}
		return e;
	}

	function deepActive() {
		let a = document.activeElement;
		while (a && a.shadowRoot && a.shadowRoot.activeElement)
			a = a.shadowRoot.activeElement;
		return a;
	}

	const TEXT_TYPES = new Set(['', 'text', 'search', 'email', 'url', 'tel',
		'password', 'number']);
	const VALUE_TYPES = new Set(['date', 'time', 'datetime-local', 'month',
		'week', 'color', 'range']);
	const WIDGET_ROLES = new Set(['button', 'link', 'checkbox', 'radio',
		'switch', 'tab', 'menuitem', 'menuitemcheckbox', 'menuitemradio',
		'option', 'combobox', 'textbox', 'searchbox', 'slider',
		'spinbutton', 'treeitem']);
	const STRUCT_ROLES = new Set(['dialog', 'alertdialog', 'alert',
		'listbox', 'menu', 'menubar', 'tablist', 'tree', 'grid', 'table',
		'radiogroup', 'group', 'heading', 'list', 'listitem', 'row',
		'cell', 'columnheader', 'rowheader', 'tabpanel', 'navigation',
		'form', 'search', 'status']);
	const STRUCT_TAGS = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6',
		'table', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'caption',
		'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'form', 'fieldset', 'legend',
		'dialog', 'label']);
	// tags that may be interactable on their own
	const CANDIDATE_TAGS = new Set(['a', 'button', 'input', 'select',
		'textarea', 'summary', 'label', 'video', 'audio', 'iframe',
		'frame']);
	const SKIP_TAGS = new Set(['head', 'script', 'style', 'noscript',
		'template', 'meta', 'link', 'title', 'base', 'option', 'optgroup',
		'datalist', 'param', 'source', 'track', 'map', 'object', 'embed',
		'colgroup', 'col']);
	const STATE_ATTRS = ['aria-expanded', 'aria-selected', 'aria-checked',
		'aria-pressed', 'aria-current', 'aria-haspopup', 'aria-invalid',
		'aria-required', 'aria-disabled', 'aria-readonly', 'aria-valuenow',
		'aria-valuemin', 'aria-valuemax', 'aria-autocomplete'];
	const PLAIN_ATTRS = ['type', 'name', 'placeholder', 'aria-label',
		'title', 'alt', 'autocomplete', 'accept', 'pattern', 'maxlength',
		'min', 'max', 'multiple'];
	const IMPLICIT = {
		a: 'link', button: 'button', select: 'combobox',
		textarea: 'textbox', summary: 'button',
	};

	function inputType(el) {
		return el.localName === 'input' ? (el.type || 'text') : '';
	}

	function implicitRole(el, tag) {
		if (tag === 'input') {
			const t = inputType(el);
			if (t === 'checkbox' || t === 'radio')
				return t;
			if (t === 'submit' || t === 'button' || t === 'reset' ||
			    t === 'image')
				return 'button';
			if (t === 'range')
				return 'slider';
			if (t === 'number')
				return 'spinbutton';
			if (t === 'search')
				return 'searchbox';
			return TEXT_TYPES.has(t) ? 'textbox' : undefined;
		}
		if (tag === 'select')
			return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
		if (tag === 'a')
			return el.hasAttribute('href') ? 'link' : undefined;
		return IMPLICIT[tag];
	}

	function isDisabled(el) {
		if (el.matches && el.matches(':disabled'))
			return true;
		return el.getAttribute && el.getAttribute('aria-disabled') === 'true';
	}

	/* 0: no, 1: yes, 2: weak (cursor, tabindex, handler attributes) */
	function interactable(el, tag, cs, parentCursor) {
		switch (tag) {
		case 'a':
			if (el.hasAttribute('href'))
				return 1;
			break;
		case 'button': case 'select': case 'textarea': case 'summary':
			return 1;
		case 'input':
			return el.type === 'hidden' ? 0 : 1;
		case 'label':
			if (el.control)
				return 1;
			break;
		case 'video': case 'audio':
			return el.controls ? 1 : 0;
		}
		if (anyEditable && el.isContentEditable &&
		    !(el.parentElement && el.parentElement.isContentEditable))
			return 1;
		if (el.hasAttributes()) {
			const role = el.getAttribute('role');
			if (role && WIDGET_ROLES.has(role))
				return 1;
			if (el.hasAttribute('onclick') || el.hasAttribute('jsaction') ||
			    el.hasAttribute('ng-click') ||
			    el.hasAttribute('v-on:click') || el.hasAttribute('@click'))
				return 2;
			const ti = el.getAttribute('tabindex');
			if (ti !== null && +ti >= 0 && tag !== 'body' &&
			    tag !== 'html')
				return 2;
		}
		if (cs.cursor === 'pointer' && parentCursor !== 'pointer')
			return 2;
		return 0;
	}

	/* Text of a subtree leaving out form controls (label text). */
	function textExcluding(root, skip) {
		let out = '';
		const w = document.createTreeWalker(root, NodeFilter.SHOW_ALL, {
			acceptNode(n) {
				if (n === skip)
					return NodeFilter.FILTER_REJECT;
				if (n.nodeType === 1) {
					const t = n.localName;
					if (t === 'select' || t === 'textarea' ||
					    t === 'script' || t === 'style' ||
					    t === 'option')
						return NodeFilter.FILTER_REJECT;
					return NodeFilter.FILTER_SKIP;
				}
				return n.nodeType === 3 ? NodeFilter.FILTER_ACCEPT
					: NodeFilter.FILTER_SKIP;
			},
		});
		for (let n = w.nextNode(); n && out.length < 400; n = w.nextNode())
			out += n.data + ' ';
		return collapse(out);
	}

	function byIdRefs(el, attr) {
		const v = el.getAttribute(attr);
		if (!v)
			return '';
		const root = el.getRootNode();
		return collapse(v.split(/\s+/).map((id) => {
			const e = root.getElementById ? root.getElementById(id)
				: document.getElementById(id);
			return e ? e.textContent : '';
		}).join(' '));
	}

	function iconName(el) {
		const img = el.querySelector('img[alt]');
		if (img && img.alt.trim())
			return collapse(img.alt);
		const t = el.querySelector('svg title');
		if (t && t.textContent.trim())
			return collapse(t.textContent);
		const a = el.querySelector('[aria-label]');
		return a ? collapse(a.getAttribute('aria-label')) : '';
	}

	// words that icon classes and image files name controls by
	const ICON_WORDS = new Set(['add', 'archive', 'attach', 'back',
		'bell', 'bin', 'bookmark', 'calendar', 'camera', 'cancel', 'cart',
		'check', 'close', 'collapse', 'comment', 'copy', 'decrement',
		'delete', 'down', 'download', 'edit', 'ellipsis', 'email',
		'expand', 'favorite', 'favourite', 'filter', 'first', 'flag',
		'forward', 'heart', 'help', 'home', 'increment', 'info', 'last',
		'like', 'lock', 'logout', 'mail', 'menu', 'minus', 'more', 'mute',
		'next', 'pause', 'pencil', 'phone', 'pin', 'play', 'plus', 'prev',
		'previous', 'print', 'refresh', 'reload', 'remove', 'reply',
		'retweet', 'save', 'search', 'send', 'settings', 'share', 'sort',
		'star', 'stop', 'trash', 'undo', 'redo', 'unlock', 'up', 'upload',
		'user', 'view', 'volume', 'zoom']);
	const FILE_NOISE = /^(\d+(px|x)?|ic|icon|icons|img|image|btn|button|sprite|svg|png|gif|jpe?g|webp|sm|lg|xs|black|white|filled|outline|outlined|round|rounded|sharp)$/;

	/* Words of an image URL's file name: ".../ic_delete_24px.png" ->
	 * "delete". */
	function fileWords(url) {
		const m = /([^/?#]+?)(\.[a-z0-9]{2,5})?(?:[?#].*)?$/i.exec(url);
		if (!m || /^data:/i.test(url))
			return '';
		let name = m[1];
		try {
			name = decodeURIComponent(name);
		} catch (e) { /* keep it as it is */ }
		return name.split(/[-_.\s]+/).filter((w) => w &&
			!FILE_NOISE.test(w.toLowerCase())).join(' ').slice(0, 60);
	}

	function cssImageWords(el) {
		const cs = getComputedStyle(el);
		for (const v of [cs.content, cs.backgroundImage]) {
			const m = v && /url\(["']?([^"')]+)["']?\)/.exec(v);
			if (m)
				return fileWords(m[1]);
		}
		return '';
	}

	function classWords(el) {
		const cls = typeof el.className === 'string' ? el.className
			: el.getAttribute('class') || '';
		for (const tok of cls.split(/\s+/)) {
			const hit = tok.toLowerCase().split(/[-_]+/)
				.filter((w) => ICON_WORDS.has(w));
			if (hit.length)
				return hit.join(' ');
		}
		return '';
	}

	/* A name for a control with no text, title, alt or aria name (an
	 * icon drawn by CSS or an image): a tooltip attribute, the title of
	 * a close ancestor (not for a symbol, which is a name of sorts), an
	 * image's file name, an icon class. */
	function iconHint(el, symbol) {
		for (const a of ['data-tooltip', 'data-title', 'data-original-title',
			'data-bs-original-title', 'data-tip', 'aria-description'])
			if (el.getAttribute(a) && collapse(el.getAttribute(a)))
				return collapse(el.getAttribute(a));
		let p = symbol ? null : el.parentElement;
		for (let up = 0; p && up < 2; up++, p = p.parentElement) {
			const t = collapse(p.getAttribute('aria-label') ||
				p.getAttribute('title'));
			if (t)
				return t;
		}
		if (symbol) // drawn by its text: its class may say more
			return classWords(el);
		// the element and its first descendants (a live collection:
		// only what is read is looked up)
		const all = el.getElementsByTagName('*');
		const some = [el];
		for (let i = 0; i < all.length && i < 5; i++)
			some.push(all[i]);
		for (const e of some) {
			const w = e.localName === 'img' ? fileWords(e.src || '')
				: cssImageWords(e);
			if (w)
				return w;
		}
		for (const e of some) {
			const w = classWords(e);
			if (w)
				return w;
		}
		return '';
	}

	const CONTROL_TAGS = new Set(['input', 'select', 'textarea', 'button']);

	/* Does the row of this field start with a field and hold another
	 * ("[ ] Genre [ ] Year")? Then fields are named by the text after
	 * them. */
	function namesFollow(el) {
		const p = el.parentNode;
		let first = null;
		for (let c = p.firstChild; c && !first; c = c.nextSibling)
			if (c.nodeType === 3 ? NONSPACE_RE.test(c.data)
				: c.nodeType === 1 && !SKIP_TAGS.has(c.localName) &&
				c.localName !== 'br')
				first = c;
		return first !== null && CONTROL_TAGS.has(first.localName) &&
			p.querySelectorAll('input:not([type=hidden]),select,textarea')
				.length > 1;
	}

	/* The text right after a field, up to the next field or line. */
	function followingText(el) {
		if (!el.parentNode)
			return '';
		let txt = '';
		for (let n = el.nextSibling; n && txt.length < 200;
		     n = n.nextSibling) {
			if (n.nodeType === 1) {
				const t = n.localName;
				if (CONTROL_TAGS.has(t) || t === 'br' ||
				    SKIP_TAGS.has(t) ||
				    (t === 'label' && n.control && n.control !== el) ||
				    n.querySelector('input,select,textarea,button'))
					break;
				txt += ' ' + n.innerText;
			} else if (n.nodeType === 3) {
				txt += n.data;
			}
		}
		return clip(collapse(txt), 80);
	}
	const NONSPACE_RE = /\S/;

	/* Text just before a control without a label: previous siblings,
	 * then the parent's, then its table column header. */
	function nearbyText(el) {
		let n = el;
		for (let up = 0; up < 3 && n; up++) {
			let tries = 0;
			for (let s = n.previousSibling; s && tries < 4;
			     s = s.previousSibling) {
				if (s.nodeType === 1) {
					tries++;
					const t = s.localName;
					if (t === 'input' || t === 'select' ||
					    t === 'textarea' || t === 'button' ||
					    t === 'script' || t === 'style')
						return '';
				}
				if (s.nodeType !== 1 && s.nodeType !== 3)
					continue;
				const txt = collapse(s.textContent);
				if (txt)
					return clip(txt, 80);
			}
			const p = parentOf(n);
			if (!p || p.nodeType !== 1)
				break;
			if (p.localName === 'td' || p.localName === 'th') {
				const table = p.closest('table');
				const head = table && table.tHead;
				const cell = head && head.rows[0] &&
					head.rows[0].cells[p.cellIndex];
				if (cell && collapse(cell.textContent))
					return clip(collapse(cell.textContent), 80);
			}
			if (p.children.length > 4)
				break;
			n = p;
		}
		return '';
	}

	function fieldLabel(el, tag) {
		if (el.labels && el.labels.length) {
			const t = collapse([...el.labels].map(
				(l) => textExcluding(l, el)).join(' '));
			if (t && WORDY.test(t))
				return t;
			// a label drawn as a symbol (a rating's stars) names
			// its field by its aria-label or title
			for (const l of el.labels) {
				const n = collapse(l.getAttribute('aria-label') ||
					l.getAttribute('title'));
				if (n)
					return n;
			}
			if (t)
				return t;
		}
		const lb = byIdRefs(el, 'aria-labelledby');
		if (lb)
			return lb;
		const al = collapse(el.getAttribute('aria-label'));
		if (al)
			return al;
		const ph = collapse(el.getAttribute('placeholder'));
		if (ph)
			return ph;
		const ti = collapse(el.getAttribute('title'));
		if (ti)
			return ti;
		if (tag === 'input' && (el.type === 'submit' || el.type === 'button' ||
		    el.type === 'reset'))
			return collapse(el.value);
		if (tag === 'input' && el.type === 'image')
			return collapse(el.alt);
		// a check box's or radio's name follows it ("[x] I agree")
		if (el.type === 'checkbox' || el.type === 'radio' ||
		    (el.parentNode && namesFollow(el)))
			return followingText(el) || nearbyText(el);
		return nearbyText(el) || followingText(el);
	}

	/* The accessible name of a button, link or widget, after its
	 * children were walked (ownText). */
	function widgetLabel(el, ownText) {
		const lb = byIdRefs(el, 'aria-labelledby');
		if (lb)
			return lb;
		const al = collapse(el.getAttribute('aria-label'));
		if (al)
			return al;
		if (ownText && WORDY.test(ownText))
			return ownText;
		// no words: a symbol (a rating's star), a count beside an
		// icon ("like 11"), or an icon alone; a number alone ("#1042",
		// a page number) is a name
		if (ownText && el.firstElementChild === null &&
		    /^[\s\p{N}\p{P}$€£¥]*$/u.test(ownText) && /\p{N}/u.test(ownText))
			return ownText;
		const hint = collapse(el.getAttribute('title')) || iconName(el) ||
			iconHint(el, ownText !== '');
		if (!hint)
			return ownText;
		return /\p{N}/u.test(ownText) ? hint + ' ' + ownText : hint;
	}
	const WORDY = /\p{L}/u;

	const groupCache = new Map();
	// isContentEditable is not free; most pages have nothing editable
	let anyEditable = true;

	function groupOf(el) {
		const fs = el.closest('fieldset');
		if (fs) {
			const lg = fs.querySelector(':scope > legend');
			if (lg && collapse(lg.textContent))
				return clip(collapse(lg.textContent), 200);
		}
		const g = el.closest('[role=radiogroup],[role=group]');
		if (g) {
			const t = byIdRefs(g, 'aria-labelledby') ||
				collapse(g.getAttribute('aria-label'));
			if (t)
				return clip(t, 200);
		}
		if (el.type !== 'radio' || !el.name)
			return '';
		const root = el.form || el.getRootNode();
		const key = el.name;
		if (groupCache.has(key))
			return groupCache.get(key);
		let peers = [];
		try {
			peers = [...root.querySelectorAll(
				'input[type=radio][name="' + CSS.escape(key) + '"]')];
		} catch (e) { /* unusual names */ }
		let text = '';
		if (peers.length > 1) {
			let lca = parentOf(peers[0]);
			while (lca && !peers.every((p) => composedContains(lca, p)))
				lca = parentOf(lca);
			if (lca && lca.nodeType === 1) {
				// text inside the common container before the
				// first radio, leaving out the radios' labels
				const first = peers[0];
				const labels = new Set();
				for (const p of peers)
					for (const l of (p.labels || []))
						labels.add(l);
				const w = document.createTreeWalker(lca,
					NodeFilter.SHOW_TEXT);
				for (let n = w.nextNode(); n; n = w.nextNode()) {
					if (first.compareDocumentPosition(n) &
					    Node.DOCUMENT_POSITION_FOLLOWING)
						break;
					let inLabel = false;
					for (const l of labels)
						if (l.contains(n))
							inLabel = true;
					if (!inLabel)
						text += n.data + ' ';
				}
				text = collapse(text);
				if (!text && lca.previousElementSibling)
					text = collapse(
						lca.previousElementSibling.textContent);
			}
		}
		text = clip(text, 200);
		groupCache.set(key, text);
		return text;
	}

	function optionsOf(el) {
		const out = [];
		const opts = el.options;
		for (let i = 0; i < opts.length && i < 1000; i++) {
			const o = opts[i];
			const it = {index: i, text: collapse(o.label || o.text),
				value: o.value, selected: o.selected};
			if (o.disabled)
				it.disabled = true;
			if (o.parentElement && o.parentElement.localName === 'optgroup')
				it.group = o.parentElement.label;
			out.push(it);
		}
		return out;
	}

	function valueOf(el, tag) {
		if (tag === 'select') {
			const o = el.options[el.selectedIndex];
			return o ? collapse(o.label || o.text) : '';
		}
		if (tag === 'textarea')
			return clip(el.value, 20000);
		if (tag === 'input') {
			const t = el.type;
			if (t === 'checkbox' || t === 'radio' || t === 'submit' ||
			    t === 'button' || t === 'reset' || t === 'image')
				return undefined;
			if (t === 'file')
				return [...(el.files || [])].map((f) => f.name).join(', ');
			if (t === 'password')
				return el.value ? '****' : '';
			return clip(el.value, 2000);
		}
		const vn = el.getAttribute('aria-valuenow');
		return vn === null ? undefined : vn;
	}

	function checkedOf(el, tag) {
		if (tag === 'input' && (el.type === 'checkbox' || el.type === 'radio'))
			return el.checked;
		if (tag === 'label' && el.control &&
		    (el.control.type === 'checkbox' || el.control.type === 'radio'))
			return el.control.checked;
		const ac = el.getAttribute('aria-checked');
		if (ac === 'true')
			return true;
		if (ac === 'false')
			return false;
		if (ac === 'mixed')
			return 'mixed';
		return undefined;
	}

	/* --- listeners of the site's world ------------------------------- */

	/* Elements the site gave a click-like listener, as noted by the
	 * browser plugin's hooks.js in the page's own world (the isolated
	 * world cannot see them): ask with <token>q, collect the <token>m
	 * events it dispatches on each. null without the hooks. */
	function listenedElements(token) {
		if (typeof token !== 'string' || !/^[a-z0-9]{8,64}$/.test(token))
			return null;
		const set = new Set();
		const on = (e) => {
			set.add(e.composed ? e.composedPath()[0] : e.target);
		};
		document.addEventListener(token + 'm', on, true);
		try {
			document.dispatchEvent(new Event(token + 'q'));
		} finally {
			document.removeEventListener(token + 'm', on, true);
		}
		return set.size ? set : null;
	}

	// attributes that scripts wire actions to (jQuery UI's data-handler
	// and data-event, data-action of many delegating libraries)
	function actionAttr(el) {
		return el.hasAttribute('data-handler') ||
			el.hasAttribute('data-action') ||
			/^(click|mousedown|mouseup|pointerdown|pointerup|tap)$/
				.test(el.getAttribute('data-event') || '');
	}

	// words (not separators like "|" or "·") in the element's own
	// text nodes
	function hasOwnWords(el) {
		for (let c = el.firstChild; c; c = c.nextSibling)
			if (c.nodeType === 3 && /[\p{L}\p{N}]/u.test(c.data))
				return true;
		return false;
	}

	/* A pointer region whose children are separate targets: the
	 * children (through single-child wrappers) are all of one tag and
	 * each holds a short text, with at most separators between them
	 * (Reply | Forward), the items of an
	 * open custom list, or the pages of a pager. A card with a heading
	 * and a paragraph, or a button's icon and word, stays one target;
	 * so does a table row. */
	function markPieces(el, pieces) {
		let p = el;
		for (let i = 0; i < 3 && p.childElementCount === 1 &&
		     !hasOwnWords(p); i++)
			p = p.firstElementChild;
		const n = p.childElementCount;
		if (n < 2 || n > 100 || hasOwnWords(p))
			return;
		const tag = p.firstElementChild.localName;
		if (tag === 'td' || tag === 'th' || tag === 'tr' ||
		    SKIP_TAGS.has(tag))
			return;
		for (let c = p.firstElementChild; c; c = c.nextElementSibling) {
			if (c.localName !== tag)
				return;
			const t = c.textContent;
			if (t.length > 200 || !/\S/.test(t) ||
			    collapse(t).length > 60)
				return;
		}
		for (let c = p.firstElementChild; c; c = c.nextElementSibling)
			pieces.add(c);
	}

	/* --- the walk ------------------------------------------------------ */

	function newNode(el, tag) {
		return {tag, kids: [], el};
	}

	function pushText(out, s) {
		const k = out.kids;
		if (k.length && typeof k[k.length - 1] === 'string')
			k[k.length - 1] += s;
		else
			k.push(s);
	}

	function observeRoot(root) {
		if (S.observer && !S.observed.has(root)) {
			S.observed.add(root);
			S.observer.observe(root, {subtree: true, childList: true,
				attributes: true, characterData: true});
		}
	}

	function snapshot(opts) {
		const t0 = performance.now();
		opts = opts || {};
		if (typeof opts.prefix === 'string')
			S.prefix = opts.prefix;
		ensureObserver();
		groupCache.clear();
		const tHooks = performance.now();
		const listened = listenedElements(opts.hooks);
		const hooksMs = performance.now() - tHooks;
		const pieces = new Set();
		const bigArea = 0.4 * innerWidth * innerHeight;
		anyEditable = document.designMode === 'on' ||
			document.querySelector('[contenteditable]') !== null;
		const maxNodes = opts.max_nodes > 0 ? opts.max_nodes : 60000;
		const maxText = opts.max_text > 0 ? opts.max_text : 200000;
		const vw = innerWidth, vh = innerHeight;
		const sx = scrollX, sy = scrollY;
		const stats = {nodes: 0, kept: 0, interactable: 0, ms: 0};
		let truncated = false;
		const pageText = [];
		let pageTextLen = 0;

		// runs from separate elements are joined with a space unless
		// whitespace already separates them
		const isSpace = (c) => c === 32 || c === 10 || c === 9 || c === 13;
		const addPageText = (s) => {
			if (pageTextLen >= maxText)
				return;
			const n = pageText.length;
			if (n) {
				const last = pageText[n - 1];
				if (!isSpace(last.charCodeAt(last.length - 1)) &&
				    !isSpace(s.charCodeAt(0)))
					pageText.push(' ');
			}
			pageText.push(s);
			pageTextLen += s.length;
		};

		// cx: {textVisible, opacityZero, clip: {l,t,r,b}|null,
		//      clipPos: clipping box is positioned, cursor}
		function visitChildren(node, out, cx) {
			if (node.firstElementChild === null && !node.shadowRoot &&
			    node.nodeType === 1 && node.localName !== 'slot') {
				// only text inside: one read instead of a wrapper per
				// text node (node access in an isolated world goes
				// through a wrapper map, so it is not cheap)
				if (cx.textVisible) {
					const d = node.textContent;
					if (NONSPACE.test(d)) {
						pushText(out, d);
						addPageText(d);
					} else if (d.length) {
						pushText(out, ' ');
					}
				}
				return;
			}
			if (node.nodeType === 1 && node.shadowRoot) {
				observeRoot(node.shadowRoot);
				node = node.shadowRoot;
				if (!anyEditable &&
				    node.querySelector('[contenteditable]'))
					anyEditable = true;
			} else if (node.localName === 'slot') {
				const a = node.assignedNodes({flatten: true});
				if (a.length) {
					for (let i = 0; i < a.length; i++)
						visit(a[i], out, cx);
					return;
				}
			}
			for (let c = node.firstChild; c; c = c.nextSibling)
				visit(c, out, cx);
		}

		const NONSPACE = /\S/;

		function visit(n, out, cx) {
			if (n.nodeType === 3) {
				if (cx.textVisible) {
					const d = n.data;
					if (NONSPACE.test(d)) {
						pushText(out, d);
						addPageText(d);
					} else if (d.length) {
						pushText(out, ' ');
					}
				}
				return;
			}
			if (n.nodeType !== 1)
				return;
			const el = n;
			const tag = el.localName;
			if (SKIP_TAGS.has(tag))
				return;
			if (++stats.nodes > maxNodes) {
				truncated = true;
				return;
			}
			if (tag === 'br' || tag === 'hr') {
				pushText(out, '\n');
				addPageText('\n');
				return;
			}
			const hasAttrs = el.hasAttributes();
			const cs = getComputedStyle(el);
			const disp = cs.display;
			if (disp === 'none' || (hasAttrs &&
			    el.getAttribute('aria-hidden') === 'true'))
				return;
			const visProp = cs.visibility === 'visible';
			const opacityZero = cx.opacityZero || cs.opacity === '0';
			// Overflow clips only boxes with element children; position
			// matters only where something clips. Fewer computed style
			// reads: they are a big part of a snapshot's cost.
			let clipsKids = false;
			if (disp !== 'inline' && (el.firstElementChild !== null ||
			    el.shadowRoot)) {
				const ovx = cs.overflowX, ovy = cs.overflowY;
				clipsKids = ovx === 'hidden' || ovx === 'clip' ||
					ovy === 'hidden' || ovy === 'clip';
			}
			const pos = cx.clip || clipsKids ? cs.position : 'static';
			let clipBox = cx.clip;
			if (pos === 'fixed')
				clipBox = null;
			else if (pos === 'absolute' && clipBox && !cx.clipPos)
				clipBox = cx.outerClip;
			const role = hasAttrs ? el.getAttribute('role') : null;
			const cursor = cs.cursor;
			const own = listened !== null && listened.has(el) &&
				tag !== 'body' && tag !== 'html';
			// The box is measured only for what may be kept or clips
			// its content: generic wrappers fold into their parent.
			const candidate = STRUCT_TAGS.has(tag) || tag === 'iframe' ||
				tag === 'frame' || tag === 'img' || role !== null ||
				(cursor === 'pointer' && cx.cursor !== 'pointer') ||
				CANDIDATE_TAGS.has(tag) ||
				(anyEditable && el.isContentEditable) ||
				own || pieces.has(el) ||
				(hasAttrs && (el.hasAttribute('tabindex') ||
				 actionAttr(el) ||
				 el.hasAttribute('onclick') ||
				 el.hasAttribute('jsaction') ||
				 el.hasAttribute('ng-click') ||
				 el.hasAttribute('v-on:click') ||
				 el.hasAttribute('@click')));
			let r = null, area = false, pageX = 0, pageY = 0;
			const cell = (tag === 'td' || tag === 'th') && cx.rowShown &&
				!clipsKids && pos === 'static';
			if (cell) {
				// cells of a row on the page are on it too; measuring
				// each one is most of a big table's cost
				area = true;
			} else if (candidate || clipsKids) {
				r = el.getBoundingClientRect();
				pageX = r.left + sx;
				pageY = r.top + sy;
				area = r.width >= 1 && r.height >= 1 &&
					(r.width > 1 || r.height > 1) &&
					r.right + sx > 0 && r.bottom + sy > 0;
				if (area && clipBox) {
					const w = Math.min(r.right, clipBox.r) -
						Math.max(r.left, clipBox.l);
					const h = Math.min(r.bottom, clipBox.b) -
						Math.max(r.top, clipBox.t);
					area = w >= 1 && h >= 1;
				}
			}
			const isCtl = tag === 'input' || tag === 'select' ||
				tag === 'textarea' || tag === 'button';
			const selfVisible = visProp && area && (!opacityZero || isCtl);

			let kind = selfVisible && candidate
				? interactable(el, tag, cs, cx.cursor) : 0;
			if (r === null && selfVisible && candidate && (kind || own ||
			    pieces.has(el) || (hasAttrs && actionAttr(el)))) {
				// a cell taken as shown, yet a control of its own:
				// it needs its box after all
				r = el.getBoundingClientRect();
				pageX = r.left + sx;
				pageY = r.top + sy;
			}
			if (!kind && selfVisible && candidate) {
				// a click target by its listener, its part in a
				// pointer region, or the delegation around it; a
				// box covering much of the viewport is a container
				const small = r !== null &&
					r.width * r.height < bigArea;
				if (pieces.has(el) || (small && (own ||
				    (hasAttrs && actionAttr(el)) ||
				    (tag === 'a' && cx.deleg &&
				     !el.hasAttribute('name')))))
					kind = 2;
			}
			if (kind === 2 && cursor === 'pointer' &&
			    cx.cursor !== 'pointer')
				markPieces(el, pieces);
			let node = null;
			if (tag === 'iframe' || tag === 'frame') {
				if (selfVisible) {
					node = {tag: 'iframe', frame_ref: idOf(el),
						attrs: attrsOf(el, tag, false),
						rect: {x: Math.round(pageX), y: Math.round(pageY),
							w: Math.round(r.width), h: Math.round(r.height)},
						kids: []};
					out.kids.push(node);
					stats.kept++;
				}
				return;
			}
			if (tag === 'img' && !kind) {
				if (selfVisible && !opacityZero && el.alt &&
				    NONSPACE.test(el.alt)) {
					out.kids.push({tag: 'img', attrs: {alt: clip(
						collapse(el.alt), 200)}, kids: []});
					stats.kept++;
				}
				return;
			}
			if (tag === 'svg' && !kind)
				return;
			if (kind || (selfVisible && (STRUCT_TAGS.has(tag) ||
			    (role && STRUCT_ROLES.has(role))))) {
				node = newNode(el, tag);
				node.kind = kind;
				node.r = r;
				node.pageX = pageX;
				node.pageY = pageY;
				node.role = role;
				node.own = own;
				node.pointer = cursor === 'pointer';
				out.kids.push(node);
			}
			const block = disp !== 'inline' && disp !== 'inline-block' &&
				disp !== 'contents' && disp !== 'inline-flex' &&
				disp !== 'inline-grid';
			const target = node || out;
			if (block) {
				if (!node)
					pushText(out, '\n');
				addPageText(disp === 'table-cell' ? ' ' : '\n');
			}
			if (tag === 'textarea' && selfVisible && !opacityZero &&
			    cx.textVisible && NONSPACE.test(el.value)) {
				// all of a long text, for extraction (the tree
				// shows its start)
				addPageText('\n');
				addPageText(el.value);
				addPageText('\n');
			}
			if (tag !== 'select' && tag !== 'textarea' && tag !== 'input') {
				let ncx = cx;
				const rowShown = tag === 'tr' ? selfVisible
					: tag === 'td' || tag === 'th' ? false : cx.rowShown;
				// listeners here may serve what is inside (delegation)
				const deleg = cx.deleg || own;
				if (rowShown !== cx.rowShown || clipsKids || pos === 'fixed' ||
				    deleg !== cx.deleg ||
				    visProp !== cx.visProp || opacityZero !==
				    cx.opacityZero || cursor !== cx.cursor ||
				    (pos === 'absolute' && clipBox !== cx.clip)) {
					ncx = {
						visProp,
						rowShown,
						textVisible: visProp && !opacityZero,
						opacityZero,
						clip: clipBox,
						clipPos: cx.clipPos,
						outerClip: cx.outerClip,
						cursor,
						deleg,
					};
					if (clipsKids) {
						const c = {l: r.left, t: r.top, r: r.right,
							b: r.bottom};
						if (clipBox) {
							c.l = Math.max(c.l, clipBox.l);
							c.t = Math.max(c.t, clipBox.t);
							c.r = Math.min(c.r, clipBox.r);
							c.b = Math.min(c.b, clipBox.b);
						}
						ncx.outerClip = clipBox;
						ncx.clip = c;
						ncx.clipPos = pos !== 'static';
						// a collapsed box shows none of its text
						if (c.r - c.l < 1 || c.b - c.t < 1)
							ncx.textVisible = false;
					}
				}
				visitChildren(el, target, ncx);
			}
			if (block && !node)
				pushText(out, '\n');
		}

		const root = {tag: '#root', kids: []};
		const cx0 = {visProp: true, rowShown: false, textVisible: true,
			opacityZero: false,
			clip: null, clipPos: false, outerClip: null, cursor: 'auto',
			deleg: false};
		if (document.documentElement)
			visit(document.documentElement, root, cx0);

		const tWalk = performance.now();
		const elements = finish(root.kids, null, stats, vw, vh);
		const tFinish = performance.now();
		sweep();
		let text = pageText.join('').replace(/[ \t\f\v\r]+/g, ' ')
			.replace(/ ?\n[\s]*/g, '\n').trim();
		if (text.length > maxText)
			text = text.slice(0, maxText);
		const se = document.scrollingElement || document.documentElement;
		stats.ms = Math.round((performance.now() - t0) * 10) / 10;
		stats.walk_ms = Math.round((tWalk - t0) * 10) / 10;
		stats.next_id = S.next;
		if (listened) {
			stats.listened = listened.size;
			stats.hooks_ms = Math.round(hooksMs * 10) / 10;
		}
		stats.finish_ms = Math.round((tFinish - tWalk) * 10) / 10;
		if (truncated)
			stats.truncated = true;
		return JSON.stringify({
			url: location.href,
			title: document.title,
			viewport: {width: vw, height: vh},
			scroll: {x: Math.round(sx), y: Math.round(sy),
				max_x: se ? Math.max(0, se.scrollWidth - vw) : 0,
				max_y: se ? Math.max(0, se.scrollHeight - vh) : 0},
			elements,
			text,
			frames: [],
			stats,
		});
	}

	const KEEP_ATTRS = new Set(PLAIN_ATTRS);
	const WIDGET_ATTRS = new Set(STATE_ATTRS);

	/* The whitelisted attributes, by walking the element's own (usually
	 * a handful) rather than asking for each name. */
	function attrsOf(el, tag, isWidget) {
		const a = {};
		const list = el.attributes;
		for (let i = 0; i < list.length; i++) {
			const at = list[i];
			const k = at.name;
			if (KEEP_ATTRS.has(k)) {
				if (at.value !== '')
					a[k] = clip(at.value, 500);
				else if (k === 'multiple')
					a[k] = '';
			} else if (isWidget && WIDGET_ATTRS.has(k)) {
				a[k] = clip(at.value, 100);
			}
		}
		if (tag === 'a' && el.hasAttribute('href')) {
			const h = el.getAttribute('href');
			a.href = /^\s*javascript:/i.test(h) ? 'javascript:' : el.href;
		}
		if (tag === 'input') {
			const t = el.type;
			a.type = t;
			if (a.value !== undefined)
				delete a.value;
			if ((t === 'checkbox' || t === 'radio' || t === 'submit' ||
			     t === 'button' || t === 'reset') && el.value &&
			    el.value !== 'on')
				a.value = clip(el.value, 200);
		}
		return a;
	}

	const MESSY = /[\n\t\r\f\v]| {2}/;

	/* Is there text in these finished kids outside interactables? */
	function textOutside(nk) {
		for (const c of nk) {
			if (typeof c === 'string') {
				if (c !== '\n' && /\S/.test(c))
					return true;
			} else if (!c.interactable && !c.frame_ref &&
			    ((c.text && c.tag !== 'img') ||
			     (c.children && textOutside(c.children)))) {
				return true;
			}
		}
		return false;
	}

	/* Turn walk nodes into snapshot objects: merge text runs, name
	 * widgets, drop empty structure, demote weak widgets that wrap real
	 * ones. Returns the kids array for the parent. */
	function finish(kids, parent, stats, vw, vh) {
		const out = [];
		for (const k of kids) {
			if (typeof k === 'string') {
				if (out.length && typeof out[out.length - 1] === 'string')
					out[out.length - 1] += k;
				else
					out.push(k);
				continue;
			}
			if (!k.el) { // img / iframe placeholders
				if (k.tag === 'iframe') {
					delete k.kids;
					k.children = [];
				} else {
					delete k.kids;
				}
				out.push(k);
				continue;
			}
			const nk = finish(k.kids, k, stats, vw, vh);
			const hasInner = nk.some((c) => typeof c !== 'string' &&
				(c.interactable || c.frame_ref));
			// a clickable wrapper around real controls, unless its own
			// listener serves text beside them and it looks clickable
			// (an inbox row around its star; not a delegating widget
			// or a framework's root)
			if (k.kind === 2 && hasInner &&
			    !(k.own && k.pointer && textOutside(nk)))
				k.kind = 0;
			const struct = STRUCT_TAGS.has(k.tag) ||
				(k.role && STRUCT_ROLES.has(k.role));
			if (!k.kind && !struct) {
				for (const c of nk) // unwrap
					out.push(c);
				continue;
			}
			const obj = build(k, nk, vw, vh);
			if (!k.kind && !obj.text && !obj.children &&
			    k.tag !== 'td' && k.tag !== 'th')
				continue; // empty structure
			stats.kept++;
			if (obj.interactable)
				stats.interactable++;
			out.push(obj);
		}
		// normalise text runs: collapse spaces, keep line breaks as
		// "\n" entries between runs
		const res = [];
		const pushNL = () => {
			if (res.length && res[res.length - 1] !== '\n')
				res.push('\n');
		};
		for (const c of out) {
			if (typeof c !== 'string') {
				res.push(c);
				continue;
			}
			if (!MESSY.test(c)) { // the common case: one clean line
				const t = c.trim();
				if (!t)
					continue;
				const last = res[res.length - 1];
				if (typeof last === 'string' && last !== '\n')
					res[res.length - 1] = last + ' ' + t;
				else
					res.push(t);
				continue;
			}
			const lines = c.replace(/[ \t\f\v\r]+/g, ' ').split('\n');
			lines.forEach((ln, i) => {
				if (i > 0)
					pushNL();
				const t = ln.trim();
				if (!t)
					return;
				const last = res[res.length - 1];
				if (typeof last === 'string' && last !== '\n')
					res[res.length - 1] = last + ' ' + t;
				else
					res.push(t);
			});
		}
		while (res.length && res[res.length - 1] === '\n')
			res.pop();
		while (res.length && res[0] === '\n')
			res.shift();
		return res;
	}

	function build(k, nk, vw, vh) {
		const el = k.el, tag = k.tag;
		const o = {};
		const widget = k.kind > 0;
		if (widget)
			o.id = idOf(el);
		o.tag = tag;
		const role = k.role || (widget ? implicitRole(el, tag) : undefined);
		if (role)
			o.role = role;
		if (widget)
			o.interactable = true;
		// structure carries no attributes, widgets the whitelisted ones
		const attrs = widget ? attrsOf(el, tag, true) : {};
		if (tag === 'label' && el.control)
			attrs.for = idOf(el.control);
		for (const k in attrs) { // non-empty
			o.attrs = attrs;
			break;
		}

		const onlyText = nk.every((c) => typeof c === 'string');
		let ownText = '';
		if (onlyText) {
			ownText = clip(nk.join(' ').replace(/ ?\n ?/g, '\n').trim(),
				widget ? 300 : 2000);
			if (ownText)
				o.text = ownText;
		} else {
			o.children = nk;
			ownText = collapse(nk.filter((c) => typeof c === 'string')
				.join(' '));
		}
		if (widget) {
			const field = tag === 'input' || tag === 'select' ||
				tag === 'textarea';
			const label = field ? fieldLabel(el, tag)
				: widgetLabel(el, collapse(ownText));
			if (label)
				o.label = clip(label, 300);
			const v = valueOf(el, tag);
			if (v !== undefined)
				o.value = v;
			const ch = checkedOf(el, tag);
			if (ch !== undefined)
				o.checked = ch;
			if (isDisabled(el))
				o.disabled = true;
			if (el.required || el.getAttribute('aria-required') === 'true')
				o.required = true;
			if (el.readOnly || el.getAttribute('aria-readonly') === 'true')
				o.readonly = true;
			if (tag === 'select')
				o.options = optionsOf(el);
			const ctl = tag === 'label' ? el.control : el;
			if (ctl && (ctl.type === 'radio' || ctl.type === 'checkbox' ||
			    role === 'radio' || role === 'checkbox')) {
				const g = groupOf(ctl);
				if (g)
					o.group = g;
			}
			const r = k.r;
			o.in_viewport = r.right > 0 && r.bottom > 0 && r.left < vw &&
				r.top < vh;
			o.rect = {x: Math.round(k.pageX), y: Math.round(k.pageY),
				w: Math.round(r.width), h: Math.round(r.height)};
		}
		return o;
	}

	/* --- settle: DOM quiet ------------------------------------------- */

	/* What the browser plugin's hooks.js, in the page's own world since
	 * the document started, saw: {since} ms since the DOM last changed,
	 * {until} ms until the last pending short timer of the site fires,
	 * {n} such timers. null without the hooks. */
	function siteActivity(token) {
		if (typeof token !== 'string' || !/^[a-z0-9]{8,64}$/.test(token))
			return null;
		let got = null;
		const on = (e) => {
			const p = String(e.detail).split(',').map(Number);
			if (p.length === 3 && p.every((x) => x >= 0))
				got = {since: p[0], until: p[1], n: p[2]};
		};
		document.addEventListener(token + 'u', on, true);
		try {
			document.dispatchEvent(new Event(token + 't'));
		} finally {
			document.removeEventListener(token + 'u', on, true);
		}
		return got;
	}

	/* The hooks watched the DOM from the document's start: the first
	 * time they answer, their note of the last change replaces the
	 * guess made when this script came. */
	function syncHooks(token) {
		if (S.hooksSynced || !token)
			return;
		const act = siteActivity(token);
		if (!act)
			return;
		S.hooksSynced = true;
		S.lastMutation = S.lastNovel = performance.now() - act.since;
	}

	function ensureObserver(token) {
		if (S.observer) {
			syncHooks(token);
			return;
		}
		// Mutations before we got here were not seen: count them as
		// happening now, so a first settle observes a whole window
		// (unless the hooks, below, saw them).
		S.lastMutation = S.lastNovel = performance.now();
		syncHooks(token);
		S.observer = new MutationObserver((recs) => {
			const now = performance.now();
			let real = false, novel = false;
			for (const r of recs) {
				if (r.type === 'attributes' && r.attributeName === 'style') {
					S.lastStyle = now; /* not content, but seen */
					continue;
				}
				real = true;
				if (!repeats(r, now))
					novel = true;
				if (S.added && r.type === 'childList')
					for (const n of r.addedNodes)
						if (n.nodeType === 1 && S.added.length < 5000)
							S.added.push(n);
			}
			if (real) {
				S.lastMutation = now;
				S.mutations++;
			}
			if (novel)
				S.lastNovel = now;
		});
		observeRoot(document);
	}

	/* A change of text or of an attribute on a node that changed the same
	 * way less than a second ago repeats: a price ticker, a clock, a
	 * progress counter. Such changes alone make a page busy, not
	 * unsettled (waitQuiet's busyMs). Elements coming or going never
	 * repeat. */
	function repeats(r, now) {
		const onlyText = (list) => {
			for (const n of list)
				if (n.nodeType !== 3)
					return false;
			return true;
		};
		let key = null;
		if (r.type === 'characterData')
			key = r.target.parentNode || r.target;
		else if (r.type === 'attributes' ||
			(onlyText(r.addedNodes) && onlyText(r.removedNodes)))
			key = r.target;
		if (!key)
			return false;
		if (!S.churn)
			S.churn = new WeakMap();
		const last = S.churn.get(key);
		S.churn.set(key, now);
		return last !== undefined && now - last < 1000;
	}

	/* Quiet: no DOM change for quietMs, waiting at most maxMs. With
	 * busyMs: once that long has passed, a DOM whose only changes for
	 * quietMs were repeating ones is reported busy instead. With the
	 * hooks' token: a short timer the site set (content on its way: a
	 * request or a render after a delay) counts as a change due when it
	 * fires, for up to busyMs (maxMs without), so the window runs from
	 * there. */
	function waitQuiet(quietMs, maxMs, busyMs, token) {
		ensureObserver(token);
		const start = performance.now();
		const watchBusy = typeof busyMs === 'number';
		const timerCap = watchBusy ? busyMs : maxMs;
		let timerDue = 0, timers = 0;
		return new Promise((resolve) => {
			/* since_ms: how long the DOM had not changed at all (style
			 * attributes too) and no short timer was due, when it
			 * resolved: a screenshot taken before is of this DOM */
			const done = (quiet, busy, now) => resolve({quiet, busy,
				waited_ms: Math.round(now - start),
				since_ms: Math.max(0, Math.floor(now - Math.max(
					S.lastMutation, S.lastStyle || 0, timerDue))),
				mutations: S.mutations, timers});
			const check = () => {
				const now = performance.now();
				if (now - start < timerCap) {
					const act = siteActivity(token);
					if (act && act.n > 0) {
						timers = Math.max(timers, act.n);
						timerDue = Math.max(timerDue, now + act.until);
					}
				}
				const last = Math.max(S.lastMutation, timerDue);
				const since = now - last;
				const novel = now - Math.max(S.lastNovel ?? S.lastMutation,
					timerDue);
				if (since >= quietMs)
					return done(true, false, now);
				if (watchBusy && now - start >= busyMs && novel >= quietMs)
					return done(false, true, now);
				if (now - start >= maxMs)
					return done(false, false, now);
				let next = Math.min(quietMs - since, maxMs - (now - start));
				if (watchBusy)
					next = Math.min(next, Math.max(busyMs - (now - start),
						quietMs - novel));
				setTimeout(check, Math.max(1, next + 1));
			};
			check();
		});
	}

	/* Settle after typing: resolves {changed: true} as soon as the DOM
	 * has changed since agoMs ago (the last key), else {changed: false}
	 * after maxMs. */
	function waitChange(agoMs, maxMs, token) {
		ensureObserver(token);
		const start = performance.now(), since = start - agoMs;
		return new Promise((resolve) => {
			const check = () => {
				if (S.lastMutation > since)
					return resolve({changed: true});
				if (performance.now() - start >= maxMs)
					return resolve({changed: false});
				setTimeout(check, 10);
			};
			check();
		});
	}

	/* --- action helpers ------------------------------------------------ */

	function describe(el) {
		if (!el)
			return 'nothing';
		let s = '<' + el.localName;
		if (el.id)
			s += ' id="' + clip(el.id, 40) + '"';
		const cls = typeof el.className === 'string' ? collapse(el.className)
			: '';
		if (cls)
			s += ' class="' + clip(cls, 60) + '"';
		const known = S.byEl.get(el);
		if (known)
			s += ' (element ' + known + ')';
		s += '>';
		const t = clip(collapse(el.innerText || el.textContent || ''), 60);
		return t ? s + ' "' + t + '"' : s;
	}

	function missing(id) {
		return {ok: false, error: 'element_not_found',
			message: 'no element with id ' + id + ' in the current page ' +
				'(it changed since the snapshot; take a new one)'};
	}

	function visibleRect(el) {
		const rects = el.getClientRects();
		for (const r of rects)
			if (r.width >= 1 && r.height >= 1)
				return r;
		return null;
	}

	function labelFor(el) {
		for (const l of (el.labels || [])) {
			const r = visibleRect(l);
			if (r && getComputedStyle(l).visibility === 'visible')
				return l;
		}
		return null;
	}

	function relation(el, h) {
		if (!h)
			return null;
		if (h === el || composedContains(el, h))
			return 'self';
		if (h.localName === 'label' && h.control === el)
			return 'label';
		const hl = h.closest && h.closest('label');
		if (hl && hl.control === el)
			return 'label';
		if (el.localName === 'label' && el.control &&
		    (h === el.control || composedContains(el.control, h)))
			return 'control';
		if (composedContains(h, el) && getComputedStyle(el).pointerEvents ===
		    'none')
			return 'ancestor';
		return null;
	}

	/* Where to aim at an element: each of its boxes' centre and a grid
	 * over the first boxes, then the centres of its descendants' boxes (a
	 * container whose middle is a gap between its buttons). */
	const GRID = [[0.25, 0.5], [0.75, 0.5], [0.5, 0.25], [0.5, 0.75],
		[0.15, 0.15], [0.85, 0.85], [0.15, 0.85], [0.85, 0.15]];

	function* aimPoints(el) {
		const rects = [...el.getClientRects()].filter((r) => r.width >= 1 &&
			r.height >= 1).slice(0, 8);
		for (const r of rects)
			yield [r.left + r.width / 2, r.top + r.height / 2];
		for (const r of rects.slice(0, 2))
			for (const [px, py] of GRID)
				yield [r.left + r.width * px, r.top + r.height * py];
		// lazily: a big container is only walked when its own points fail
		let n = 0, seen = 0;
		for (const d of el.querySelectorAll('*')) {
			if (++seen > 2000)
				return;
			const r = visibleRect(d);
			if (!r)
				continue;
			yield [r.left + r.width / 2, r.top + r.height / 2];
			if (++n >= 24)
				return;
		}
	}

	/* Scroll into view and find a point whose hit-test is the element or
	 * inside it (or its label/control); a point that only reaches an
	 * ancestor (the element has pointer-events: none) is the last resort. */
	function prepare(id, opts) {
		opts = opts || {};
		const el = byId(id);
		if (!el)
			return missing(id);
		if (opts.scroll !== false) {
			// only when not wholly in view: scrolling costs a layout
			// and fires the page's scroll handlers
			const b = el.getBoundingClientRect();
			if (b.top < 0 || b.left < 0 || b.bottom > innerHeight ||
			    b.right > innerWidth || b.width === 0)
				el.scrollIntoView({block: 'center', inline: 'center',
					behavior: 'instant'});
		}
		if (!opts.allowDisabled && isDisabled(el))
			return {ok: false, error: 'disabled',
				message: 'element ' + id + ' ' + describe(el) +
					' is disabled'};
		let target = el, via = 'self';
		const r = visibleRect(el);
		const cs = getComputedStyle(el);
		if (!r || cs.visibility !== 'visible' ||
		    (cs.opacity === '0' && !labelFor(el))) {
			const lab = labelFor(el);
			if (!lab)
				return {ok: false, error: 'not_visible',
					message: 'element ' + id + ' ' + describe(el) +
						' is not visible'};
			lab.scrollIntoView({block: 'center', behavior: 'instant'});
			target = lab;
			via = 'label';
		}
		let first = null, fx = 0, fy = 0, up = null, i = -1;
		for (const [x, y] of aimPoints(target)) {
			i++;
			if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight)
				continue;
			const h = deepHit(x, y);
			const rel = relation(target, h);
			if (rel === 'ancestor') {
				if (!up)
					up = {ok: true, x, y, via: 'ancestor',
						tag: el.localName, type: inputType(el),
						hit: describe(h)};
			} else if (rel) {
				const o = {ok: true, x, y, via: via === 'label' ? 'label'
					: rel, tag: el.localName, type: inputType(el)};
				// off the centre: say what the click reaches
				if (i > 0 && h !== target)
					o.hit = describe(h);
				return o;
			} else if (!first) {
				first = h;
				fx = x;
				fy = y;
			}
		}
		if (up)
			return up;
		if (!first)
			return {ok: false, error: 'not_visible',
				message: 'element ' + id + ' ' + describe(el) +
					' is outside the viewport and cannot be scrolled ' +
					'into it'};
		return {ok: false, error: 'covered', x: fx, y: fy,
			covered_by: describe(first),
			message: 'element ' + id + ' ' + describe(el) +
				' is covered by ' + describe(first)};
	}

	function jsClick(id) {
		const el = byId(id);
		if (!el)
			return missing(id);
		el.click();
		return {ok: true};
	}

	function editableOf(el) {
		if (!el)
			return null;
		if (el.localName === 'label' && el.control)
			el = el.control;
		const t = el.localName;
		if (t === 'textarea' || (t === 'input' &&
		    (TEXT_TYPES.has(el.type) || VALUE_TYPES.has(el.type))) ||
		    el.isContentEditable)
			return el;
		const inner = el.querySelectorAll(
			'input,textarea,[contenteditable=""],[contenteditable=true]');
		const cands = [...inner].filter((e) => e.localName !== 'input' ||
			TEXT_TYPES.has(e.type) || VALUE_TYPES.has(e.type));
		return cands.length === 1 ? cands[0] : null;
	}

	function valueOfAny(el) {
		if (!el)
			return '';
		if (el.localName === 'input' || el.localName === 'textarea' ||
		    el.localName === 'select')
			return el.value;
		return el.innerText !== undefined ? el.innerText.replace(/\n$/, '')
			: el.textContent;
	}

	/* Focus a field, and with select its content (typing then replaces
	 * it). */
	function focus(id, select) {
		const el0 = byId(id);
		if (!el0)
			return missing(id);
		const el = editableOf(el0) || el0;
		// a read-only field takes focus and keys (date pickers open on
		// them), but no typing
		if (select && (el.localName === 'input' ||
		    el.localName === 'textarea') && el.readOnly)
			return {ok: false, error: 'not_interactable',
				message: 'element ' + id + ' ' + describe(el0) +
					' is read-only: it takes no typing (open its ' +
					'picker with a click or keys instead)'};
		if (isDisabled(el))
			return {ok: false, error: 'disabled', message: 'element ' +
				id + ' ' + describe(el0) + ' is disabled'};
		el.focus({preventScroll: false});
		if (select) {
			if (typeof el.select === 'function')
				el.select();
			else if (el.isContentEditable) {
				const range = document.createRange();
				range.selectNodeContents(el);
				const sel = getSelection();
				sel.removeAllRanges();
				sel.addRange(range);
			}
		}
		const kind = editableOf(el0) === null ? 'other'
			: (el.localName === 'input' && VALUE_TYPES.has(el.type))
				? 'value' : 'text';
		return {ok: true, focused: deepActive() === el, kind,
			type: inputType(el), value: valueOfAny(el),
			maxlength: el.maxLength > 0 ? el.maxLength : undefined,
			password: el.type === 'password'};
	}

	/* Set the value of inputs that take no typing (date, color, range):
	 * the prototype's setter (frameworks watch the instance) and the
	 * events a person's edit would fire. */
	function setValue(id, v) {
		const el = editableOf(byId(id));
		if (!el)
			return missing(id);
		const proto = el.localName === 'textarea'
			? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
		Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, v);
		el.dispatchEvent(new Event('input', {bubbles: true}));
		el.dispatchEvent(new Event('change', {bubbles: true}));
		return {ok: true, value: el.value};
	}

	function state(id) {
		const el0 = byId(id);
		if (!el0)
			return missing(id);
		let el = el0;
		if (el.localName === 'label' && el.control)
			el = el.control;
		const tag = el.localName;
		const o = {ok: true, tag, type: inputType(el),
			connected: el.isConnected, focused: deepActive() === el,
			disabled: isDisabled(el)};
		const ed = editableOf(el0);
		if (ed)
			o.value = valueOfAny(ed);
		else if (tag === 'select')
			o.value = el.value;
		const ch = checkedOf(el, tag);
		if (ch !== undefined)
			o.checked = ch;
		if (tag === 'select') {
			const opt = el.options[el.selectedIndex];
			o.selected = opt ? {index: el.selectedIndex,
				text: collapse(opt.label || opt.text), value: opt.value}
				: null;
		}
		if (tag === 'input' && el.type === 'file')
			o.files = [...(el.files || [])].map((f) => f.name);
		o.text = clip(collapse(el0.innerText || el0.textContent || ''), 300);
		o.hovered = el0.matches(':hover');
		const ex = el0.getAttribute('aria-expanded');
		if (ex !== null)
			o.expanded = ex === 'true';
		if (el.getAttribute('role') === 'checkbox' ||
		    el.getAttribute('role') === 'switch' ||
		    el.getAttribute('role') === 'radio')
			o.type = el.getAttribute('role');
		return o;
	}

	function matchText(a, b) {
		return collapse(a).toLowerCase() === collapse(b).toLowerCase();
	}

	function selectOption(id, want) {
		const el = byId(id);
		if (!el)
			return missing(id);
		if (el.localName !== 'select')
			return {ok: false, error: 'invalid_action', message:
				'element ' + id + ' is not a native select'};
		if (isDisabled(el))
			return {ok: false, error: 'disabled', message: 'element ' + id +
				' ' + describe(el) + ' is disabled'};
		const opts = [...el.options];
		const texts = opts.map((o) => collapse(o.label || o.text));
		let idx = -1;
		const find = (pred) => {
			if (idx < 0)
				idx = opts.findIndex(pred);
		};
		if (want.label != null) {
			const l = String(want.label);
			find((o, i) => texts[i] === collapse(l));
			find((o, i) => matchText(texts[i], l));
		}
		if (want.value != null) {
			const v = String(want.value);
			find((o) => o.value === v);
			find((o, i) => matchText(o.value, v) || matchText(texts[i], v));
		}
		if (idx < 0 && want.index != null && want.index >= 0 &&
		    want.index < opts.length)
			idx = want.index;
		if (idx < 0 && want.label != null) {
			const l = collapse(String(want.label)).toLowerCase();
			const hits = texts.map((t, i) => [t.toLowerCase(), i])
				.filter(([t]) => l && t.indexOf(l) >= 0);
			if (hits.length === 1)
				idx = hits[0][1];
		}
		if (idx < 0)
			return {ok: false, error: 'option_not_found', message:
				'no option matching ' + JSON.stringify(want) +
				' in element ' + id + '; options are: ' +
				clip(texts.map((t) => JSON.stringify(t)).join(', '), 600),
				options: texts.slice(0, 50)};
		if (opts[idx].disabled)
			return {ok: false, error: 'disabled', message: 'option ' +
				JSON.stringify(texts[idx]) + ' is disabled'};
		const changed = !opts[idx].selected;
		if (changed) {
			el.focus({preventScroll: true});
			if (el.multiple)
				opts[idx].selected = true;
			else
				el.selectedIndex = idx;
			el.dispatchEvent(new Event('input', {bubbles: true}));
			el.dispatchEvent(new Event('change', {bubbles: true}));
		}
		return {ok: true, changed, selected: {index: idx, text: texts[idx],
			value: opts[idx].value}};
	}

	/* Custom dropdowns: remember what appears after the opening click. */
	function mark() {
		ensureObserver();
		S.added = [];
		return true;
	}

	function isShown(e) {
		const r = visibleRect(e);
		if (!r)
			return false;
		const cs = getComputedStyle(e);
		return cs.visibility === 'visible' && cs.opacity !== '0';
	}

	function optionCandidates(el) {
		const out = [];
		const seen = new Set();
		const add = (e) => {
			if (!seen.has(e) && e !== el && !composedContains(e, el) &&
			    isShown(e) && collapse(e.textContent)) {
				seen.add(e);
				out.push(e);
			}
		};
		const sel = '[role=option],[role=menuitem],[role=menuitemradio],' +
			'[role=treeitem],[role=gridcell]';
		for (const attr of ['aria-controls', 'aria-owns']) {
			const ids = (el.getAttribute(attr) || '').split(/\s+/);
			const root = el.getRootNode();
			for (const i of ids) {
				const box = i && root.getElementById &&
					root.getElementById(i);
				if (box)
					box.querySelectorAll(sel + ',li').forEach(add);
			}
		}
		if (!out.length)
			document.querySelectorAll(sel).forEach(add);
		if (!out.length && S.added) {
			for (const a of S.added) {
				if (!a.isConnected)
					continue;
				const leaves = a.querySelectorAll(
					'li,a,button,[role],[tabindex],div,span');
				const list = leaves.length ? leaves : [a];
				for (const e of list)
					if (!e.querySelector('li,a,button,[role=option]'))
						add(e);
			}
		}
		return out;
	}

	function findOption(id, want) {
		const el = byId(id);
		if (!el)
			return missing(id);
		const cands = optionCandidates(el);
		const texts = cands.map((e) => collapse(e.innerText ||
			e.textContent));
		let i = -1;
		if (want.label != null) {
			i = texts.findIndex((t) => matchText(t, want.label));
			if (i < 0) {
				const l = collapse(String(want.label)).toLowerCase();
				const hits = texts.map((t, k) => [t.toLowerCase(), k])
					.filter(([t]) => l && t.indexOf(l) >= 0);
				if (hits.length >= 1)
					i = hits[0][1];
			}
		}
		if (i < 0 && want.value != null) {
			const v = String(want.value);
			i = cands.findIndex((e) => e.getAttribute('data-value') === v ||
				e.getAttribute('value') === v);
			if (i < 0)
				i = texts.findIndex((t) => matchText(t, v));
		}
		if (i < 0 && want.index != null && want.index >= 0 &&
		    want.index < cands.length)
			i = want.index;
		if (i < 0)
			return {ok: false, error: 'option_not_found', message:
				(cands.length ? 'no option matching ' +
					JSON.stringify(want) + ' appeared; visible options: ' +
					clip(texts.map((t) => JSON.stringify(t)).join(', '),
						600)
					: 'no options appeared after clicking element ' + id),
				options: texts.slice(0, 50)};
		S.added = null;
		return {ok: true, id: idOf(cands[i]), text: texts[i]};
	}

	function scrollableIn(el, vertical) {
		for (let e = el; e && e.nodeType === 1; e = parentOf(e)) {
			if (e === document.body || e === document.documentElement)
				return null;
			const cs = getComputedStyle(e);
			const ov = vertical ? cs.overflowY : cs.overflowX;
			const room = vertical ? e.scrollHeight > e.clientHeight + 1
				: e.scrollWidth > e.clientWidth + 1;
			if (room && (ov === 'auto' || ov === 'scroll' ||
			    ov === 'overlay'))
				return e;
		}
		return null;
	}

	function scroll(id, dx, dy) {
		let box = null;
		if (id != null && id !== '') {
			const el = byId(id);
			if (!el)
				return missing(id);
			box = scrollableIn(el, dy !== 0);
		}
		const se = document.scrollingElement || document.documentElement;
		const t = box || se;
		const before = {x: t.scrollLeft, y: t.scrollTop};
		if (box)
			box.scrollBy({left: dx, top: dy, behavior: 'instant'});
		else
			window.scrollBy({left: dx, top: dy, behavior: 'instant'});
		const after = {x: t.scrollLeft, y: t.scrollTop};
		return {ok: true, target: box ? 'container' : 'page',
			container: box ? describe(box) : undefined,
			moved: before.x !== after.x || before.y !== after.y,
			x: Math.round(after.x), y: Math.round(after.y),
			max_x: Math.max(0, t.scrollWidth - t.clientWidth),
			max_y: Math.max(0, t.scrollHeight - t.clientHeight)};
	}

	/* Where an iframe's content starts in this frame's viewport. */
	function frameOffset(ref) {
		const el = byId(ref);
		if (!el)
			return null;
		const r = el.getBoundingClientRect();
		const cs = getComputedStyle(el);
		return {x: r.left + el.clientLeft + parseFloat(cs.paddingLeft || 0),
			y: r.top + el.clientTop + parseFloat(cs.paddingTop || 0)};
	}

	/*
	 * A point (x, y) of the child frame whose element is ref, in this
	 * frame's viewport: scrolled into view here when it is not (an iframe
	 * placed low on a page), and hit-tested, for the iframe must be what
	 * receives it.
	 */
	function framePoint(ref, x, y) {
		const el = byId(ref);
		if (!el)
			return {ok: false, error: 'element_not_found', message:
				'the frame is gone from its parent page'};
		const at = () => {
			const o = frameOffset(ref);
			return [o.x + x, o.y + y];
		};
		let [px, py] = at();
		const shift = (p, lo, size) => (p < lo || p >= lo + size
			? p - (lo + size / 2) : 0);
		for (let c = parentOf(el); c && c.nodeType === 1; c = parentOf(c)) {
			if (c === document.body || c === document.documentElement)
				break;
			const cs = getComputedStyle(c);
			const sx = /auto|scroll|overlay/.test(cs.overflowX);
			const sy = /auto|scroll|overlay/.test(cs.overflowY);
			if (!sx && !sy)
				continue;
			const b = c.getBoundingClientRect();
			const dx = sx ? shift(px, b.left + c.clientLeft, c.clientWidth)
				: 0;
			const dy = sy ? shift(py, b.top + c.clientTop, c.clientHeight)
				: 0;
			if (dx || dy) {
				c.scrollBy({left: dx, top: dy, behavior: 'instant'});
				[px, py] = at();
			}
		}
		const dx = shift(px, 0, innerWidth), dy = shift(py, 0, innerHeight);
		if (dx || dy) {
			scrollBy({left: dx, top: dy, behavior: 'instant'});
			[px, py] = at();
		}
		if (px < 0 || py < 0 || px >= innerWidth || py >= innerHeight)
			return {ok: false, error: 'not_visible', message: 'the ' +
				'element is at (' + Math.round(px) + ', ' +
				Math.round(py) + '), outside the window (' + innerWidth +
				'x' + innerHeight + '), in the frame ' + describe(el) +
				', which cannot be scrolled to show it'};
		const h = deepHit(px, py);
		if (h !== el)
			return {ok: false, error: 'covered', x: px, y: py,
				covered_by: describe(h), message: 'the element is in ' +
					'the frame ' + describe(el) + ', which is covered by ' +
					describe(h) + ' there'};
		return {ok: true, x: px, y: py};
	}

	/* The file input behind an element: itself, its label's control, one
	 * inside it, or the only one near it (styled upload buttons). */
	function fileInput(id) {
		const el = byId(id);
		if (!el)
			return null;
		const isFile = (e) => e && e.localName === 'input' &&
			e.type === 'file';
		if (isFile(el))
			return el;
		if (el.localName === 'label' && isFile(el.control))
			return el.control;
		const inner = el.querySelectorAll('input[type=file]');
		if (inner.length === 1)
			return inner[0];
		let p = parentOf(el);
		for (let up = 0; p && p.nodeType === 1 && up < 4; up++) {
			const f = p.querySelectorAll('input[type=file]');
			if (f.length === 1)
				return f[0];
			if (f.length > 1)
				return null;
			p = parentOf(p);
		}
		return null;
	}

	/* Ids continue across the documents of a tab (the plugin passes the
	 * last counter), so an id from an earlier page never names an
	 * element of a later one. */
	function setBase(n) {
		if (n > S.next)
			S.next = n;
		return S.next;
	}

	G.__sky = {
		version: VERSION,
		setBase,
		snapshot,
		el: byId,
		prepare,
		jsClick,
		focus,
		setValue,
		state,
		selectOption,
		mark,
		findOption,
		scroll,
		frameOffset,
		framePoint,
		fileInput,
		waitQuiet,
		waitChange,
		describe: (id) => describe(byId(id)),
	};
	ensureObserver();
	return VERSION;
})();
