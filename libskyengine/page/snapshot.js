/* placeholder */ globalThis.__sky = {};
