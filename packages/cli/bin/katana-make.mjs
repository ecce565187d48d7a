#!/usr/bin/env node
import '../dist/src/make-main.js';
