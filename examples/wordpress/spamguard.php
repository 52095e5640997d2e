<?php
/**
 * Plugin Name: spamguard for Akismet
 * Description: Sends the Akismet plugin's API calls to a self-hosted `spamguard serve` instead of rest.akismet.com, and shows that service's privacy notice under comment forms.
 * Version: 0.1.0
 * License: MIT
 *
 * A must-use plugin: copy this one file into wp-content/mu-plugins/ and define two constants
 * in wp-config.php (above "That's all, stop editing!"):
 *
 *     define( 'SPAMGUARD_URL', 'http://127.0.0.1:8080' );   // where `spamguard serve` listens
 *     define( 'WPCOM_API_KEY', 'the key `spamguard keys add` printed' );
 *
 * The stock Akismet plugin stays as it is. Every request it makes to rest.akismet.com
 * (POST /1.1/..., /1.2/..., and its connectivity check GET /1.1/test) is answered through
 * WordPress's `pre_http_request` filter: sent with the same method, body and headers to
 * SPAMGUARD_URL + the same path, and the service's answer handed back to the plugin as
 * wp_remote_*() returns it. No DNS or hosts-file change, and an https SPAMGUARD_URL is
 * verified like any other WordPress request. Without SPAMGUARD_URL nothing is sent to
 * Akismet either: the calls fail, and the Akismet plugin holds comments for moderation.
 *
 * The privacy notice under comment forms (Settings > Akismet > Privacy) is replaced with the
 * notice the service gives (GET SPAMGUARD_URL/notice?lang=xx) in the visitor's language,
 * cached for a day; when the service does not answer, a generic sentence is shown instead.
 * The Akismet settings page's statistics frames, which would load from tools.akismet.com
 * with the API key in their address, are left blank.
 *
 * Walk-through: examples/wordpress/README.md in the spamguard repository.
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** The host the Akismet plugin sends its API calls to. */
const SPAMGUARD_AKISMET_HOST = 'rest.akismet.com';

/** Seconds a notice fetched from the service is kept (a day), and a fallback notice (5 minutes). */
const SPAMGUARD_NOTICE_TTL          = 86400;
const SPAMGUARD_NOTICE_FALLBACK_TTL = 300;

/**
 * The service's base URL (SPAMGUARD_URL without a final slash), or null when it is missing or
 * not an http(s) URL.
 */
function spamguard_service_url() {
	if ( ! defined( 'SPAMGUARD_URL' ) || ! is_string( SPAMGUARD_URL ) ) {
		return null;
	}
	$url    = rtrim( trim( SPAMGUARD_URL ), '/' );
	$scheme = strtolower( (string) wp_parse_url( $url, PHP_URL_SCHEME ) );
	if ( ! in_array( $scheme, array( 'http', 'https' ), true ) || ! wp_parse_url( $url, PHP_URL_HOST ) ) {
		return null;
	}
	return $url;
}

/**
 * The value of one request header (any case) from WordPress HTTP arguments, or ''.
 */
function spamguard_header( $headers, $name ) {
	if ( is_string( $headers ) ) {
		$processed = WP_Http::processHeaders( $headers );
		$headers   = $processed['headers'];
	}
	foreach ( (array) $headers as $key => $value ) {
		if ( 0 === strcasecmp( (string) $key, $name ) ) {
			return is_array( $value ) ? (string) end( $value ) : (string) $value;
		}
	}
	return '';
}

/**
 * `pre_http_request`: answers the Akismet plugin's calls to rest.akismet.com from the service.
 *
 * The plugin also calls an IP address with a `Host: rest.akismet.com` header when it checks
 * the servers it resolved; those go to the service too.
 */
function spamguard_forward_akismet_request( $preempt, $args, $url ) {
	if ( false !== $preempt ) {
		return $preempt;
	}
	$parts = wp_parse_url( $url );
	if ( ! is_array( $parts ) ) {
		return $preempt;
	}
	$host        = strtolower( isset( $parts['host'] ) ? $parts['host'] : '' );
	$host_header = strtolower( preg_replace( '/:\d+$/', '', spamguard_header( isset( $args['headers'] ) ? $args['headers'] : array(), 'Host' ) ) );
	if ( SPAMGUARD_AKISMET_HOST !== $host && SPAMGUARD_AKISMET_HOST !== $host_header ) {
		return $preempt;
	}
	$service = spamguard_service_url();
	if ( null === $service ) {
		return new WP_Error(
			'spamguard_not_configured',
			'spamguard: SPAMGUARD_URL is not set to an http:// or https:// URL in wp-config.php, so Akismet calls are not sent anywhere.'
		);
	}
	$path  = isset( $parts['path'] ) && '' !== $parts['path'] ? $parts['path'] : '/';
	$query = isset( $parts['query'] ) ? '?' . $parts['query'] : '';

	$headers = isset( $args['headers'] ) ? $args['headers'] : array();
	if ( is_string( $headers ) ) {
		$processed = WP_Http::processHeaders( $headers );
		$headers   = $processed['headers'];
	}
	foreach ( array_keys( (array) $headers ) as $key ) {
		if ( 0 === strcasecmp( (string) $key, 'Host' ) ) {
			unset( $headers[ $key ] ); // the service's own host name goes in its place
		}
	}
	$args['headers'] = $headers;
	unset( $args['_redirection'] );

	return wp_remote_request( $service . $path . $query, $args );
}
add_filter( 'pre_http_request', 'spamguard_forward_akismet_request', 10, 3 );

/**
 * The visitor's language as a primary language code ("de", "en"...): the highest-ranked entry
 * of the Accept-Language header, else the site's (or the logged-in user's) locale.
 */
function spamguard_visitor_language() {
	$header = isset( $_SERVER['HTTP_ACCEPT_LANGUAGE'] ) ? (string) $_SERVER['HTTP_ACCEPT_LANGUAGE'] : '';
	$best   = '';
	$best_q = 0.0;
	foreach ( explode( ',', substr( $header, 0, 1024 ) ) as $range ) {
		$pieces = array_map( 'trim', explode( ';', $range ) );
		$tag    = array_shift( $pieces );
		$q      = 1.0;
		foreach ( $pieces as $param ) {
			if ( preg_match( '/^q\s*=\s*([01](?:\.\d{0,3})?)$/i', $param, $match ) ) {
				$q = (float) $match[1];
			}
		}
		if ( $q > $best_q && preg_match( '/^[a-z]{2,3}(?:[-_][a-z0-9]{1,8})*$/i', $tag ) ) {
			$best   = $tag;
			$best_q = $q;
		}
	}
	if ( '' === $best ) {
		$best = function_exists( 'determine_locale' ) ? determine_locale() : get_locale();
	}
	$primary = strtolower( strtok( str_replace( '_', '-', $best ), '-' ) );
	return preg_match( '/^[a-z]{2,3}$/', $primary ) ? $primary : 'en';
}

/** The HTML a notice may contain; anything else the service sends is removed. */
function spamguard_notice_allowed_html() {
	return array(
		'p'      => array( 'class' => true, 'lang' => true, 'dir' => true ),
		'a'      => array( 'href' => true, 'target' => true, 'rel' => true, 'hreflang' => true ),
		'span'   => array( 'class' => true, 'lang' => true ),
		'strong' => array(),
		'em'     => array(),
	);
}

/**
 * The notice HTML the service gives for a language (GET SERVICE/notice?lang=xx), or null when
 * it does not answer 200 with a body. Not cached: see spamguard_service_notice().
 */
function spamguard_fetch_notice( $service_url, $lang ) {
	$response = wp_remote_get(
		rtrim( $service_url, '/' ) . '/notice?lang=' . rawurlencode( $lang ),
		array( 'timeout' => 3, 'redirection' => 0 )
	);
	if ( is_wp_error( $response ) || 200 !== (int) wp_remote_retrieve_response_code( $response ) ) {
		return null;
	}
	$html = trim( wp_kses( (string) wp_remote_retrieve_body( $response ), spamguard_notice_allowed_html() ) );
	return '' === $html ? null : $html;
}

/**
 * The notice shown when the service does not answer: a generic sentence that names no outside
 * party, linking to the site's privacy policy page when it has one. Filter:
 * `spamguard_fallback_notice`.
 */
function spamguard_fallback_notice() {
	$text   = esc_html__( 'Comments on this site are checked for spam by a spam filter service run for this site.', 'spamguard' );
	$policy = function_exists( 'get_privacy_policy_url' ) ? get_privacy_policy_url() : '';
	if ( $policy ) {
		$text .= ' <a href="' . esc_url( $policy ) . '">' . esc_html__( 'Learn how your comment data is processed', 'spamguard' ) . '</a>.';
	}
	return apply_filters( 'spamguard_fallback_notice', '<p class="spamguard-notice">' . $text . '</p>' );
}

/**
 * The service's notice for a language, cached in a transient (a day; a fallback for 5
 * minutes, so a service that is down costs one timeout every 5 minutes, not one a page).
 */
function spamguard_service_notice( $service_url, $lang ) {
	$key    = 'spamguard_notice_' . md5( $service_url . '|' . $lang );
	$cached = get_transient( $key );
	if ( is_string( $cached ) && '' !== $cached ) {
		return $cached;
	}
	$html = spamguard_fetch_notice( $service_url, $lang );
	if ( null === $html ) {
		$html = spamguard_fallback_notice();
		set_transient( $key, $html, SPAMGUARD_NOTICE_FALLBACK_TTL );
	} else {
		set_transient( $key, $html, SPAMGUARD_NOTICE_TTL );
	}
	return $html;
}

/**
 * `akismet_comment_form_privacy_notice_markup`: the service's notice in place of the plugin's
 * (which names Akismet and links to Akismet's privacy page).
 */
function spamguard_privacy_notice_markup( $markup ) {
	$service = spamguard_service_url();
	if ( null === $service ) {
		return spamguard_fallback_notice();
	}
	return spamguard_service_notice( $service, spamguard_visitor_language() );
}
add_filter( 'akismet_comment_form_privacy_notice_markup', 'spamguard_privacy_notice_markup' );

/**
 * `clean_url`: the Akismet settings and stats pages embed frames from tools.akismet.com with
 * the API key and the site in their address; they are left blank, so neither goes to Akismet.
 */
function spamguard_blank_akismet_frames( $good_url, $original_url, $context ) {
	$host = strtolower( (string) wp_parse_url( (string) $original_url, PHP_URL_HOST ) );
	if ( 'tools.akismet.com' === $host ) {
		return 'about:blank';
	}
	return $good_url;
}
add_filter( 'clean_url', 'spamguard_blank_akismet_frames', 10, 3 );

/** Tells administrators when SPAMGUARD_URL is missing or not an http(s) URL. */
function spamguard_admin_notice() {
	if ( null !== spamguard_service_url() || ! current_user_can( 'manage_options' ) ) {
		return;
	}
	echo '<div class="notice notice-error"><p>'
		. esc_html__( 'spamguard: define SPAMGUARD_URL in wp-config.php as the address of your spamguard service (for example http://127.0.0.1:8080). Until then the Akismet plugin cannot check comments.', 'spamguard' )
		. '</p></div>';
}
add_action( 'admin_notices', 'spamguard_admin_notice' );
